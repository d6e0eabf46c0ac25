# Copies the Redoc bundle that /docs serves from the npm tree of tests/contract into the
# `docs` folder next to herald-api (build/bin/docs), where api/docs.c looks when
# HERALD_DOCS_DIR is empty.
#   cmake -DSRC=<tests/contract/node_modules/redoc/bundles> -DDEST=<build/bin/docs> [-DREQUIRED=ON] -P docs-assets.cmake
# Without REQUIRED a missing npm tree is only a note (the build runs before `npm ci`).
set(files redoc.standalone.js redoc.standalone.js.LICENSE.txt)
if(NOT EXISTS "${SRC}/redoc.standalone.js")
  if(REQUIRED)
    message(FATAL_ERROR "docs assets: ${SRC}/redoc.standalone.js is missing; run `npm ci` in tests/contract")
  endif()
  message(STATUS "docs assets: ${SRC} not installed yet (npm ci in tests/contract); /docs answers 404 until then")
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
