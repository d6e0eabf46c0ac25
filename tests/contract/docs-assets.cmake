# Copies the Redoc bundle that /docs serves, with its licences, from vendor/redoc (installed
# and checksummed by scripts/docs-assets.sh at the dependency step) into the `docs` folder
# next to herald-api (build/bin/docs), where api/docs.c looks when HERALD_DOCS_DIR is empty.
#   cmake -DSRC=<vendor/redoc> -DDEST=<build/bin/docs> [-DREQUIRED=ON] -P docs-assets.cmake
# Without REQUIRED a missing vendor/redoc is only a note.
set(files redoc.standalone.js redoc.standalone.js.LICENSE.txt LICENSE VERSION)
if(NOT EXISTS "${SRC}/redoc.standalone.js")
  if(REQUIRED)
    message(FATAL_ERROR "docs assets: ${SRC}/redoc.standalone.js is missing; run scripts/docs-assets.sh")
  endif()
  message(STATUS "docs assets: ${SRC} not installed (scripts/docs-assets.sh); /docs answers 404 until then")
  return()
endif()
file(MAKE_DIRECTORY "${DEST}")
foreach(f IN LISTS files)
  if(EXISTS "${SRC}/${f}")
    execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${SRC}/${f}" "${DEST}/${f}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "docs assets: cannot copy ${f} to ${DEST}")
    endif()
  endif()
endforeach()
message(STATUS "docs assets: Redoc bundle installed in ${DEST}")
