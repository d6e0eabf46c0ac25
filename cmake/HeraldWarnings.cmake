# Strict warnings, set per target so third-party code is not affected.
function(herald_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes
    -Wmissing-prototypes -Wold-style-definition -Wnull-dereference
    -Wno-unused-parameter -Wno-overlength-strings)
  if(HERALD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
