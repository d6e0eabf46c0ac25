# herald_embed(OUTPUT out.c SYMBOL name INPUTS file...)
# Generates a C file holding each input as a NUL-terminated byte array, so the
# binaries carry their migrations and OpenAPI document with them.
function(herald_embed)
  cmake_parse_arguments(E "" "OUTPUT;SYMBOL" "INPUTS" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DSYMBOL=${E_SYMBOL}
            "-DINPUTS=${E_INPUTS}" -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${E_INPUTS} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "Embedding ${E_SYMBOL}"
    VERBATIM)
endfunction()
