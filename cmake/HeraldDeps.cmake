# Every library comes from Debian's packages through pkg-config, as an imported
# target with a version floor. A missing one stops the configure step with the
# package to install.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

function(herald_require target module floor debian_pkg)
  pkg_check_modules(${target} QUIET IMPORTED_TARGET GLOBAL "${module}>=${floor}")
  if(NOT ${target}_FOUND)
    message(FATAL_ERROR "Herald needs ${module} >= ${floor}: install the Debian package "
                        "'${debian_pkg}' (scripts/deps.sh installs everything).")
  endif()
  message(STATUS "  ${module} ${${target}_VERSION}")
endfunction()

herald_require(ULFIUS  libulfius     2.7    libulfius-dev)
herald_require(ORCANIA liborcania    2.1    liborcania-dev)
herald_require(YDER    libyder       1.4    libyder-dev)
herald_require(JANSSON jansson       2.13   libjansson-dev)
herald_require(LIBJWT  libjwt        1.10   libjwt-dev)
herald_require(LIBPQ   libpq         13     libpq-dev)
herald_require(HIREDIS hiredis       0.14   libhiredis-dev)
herald_require(LIBCURL libcurl       7.68   libcurl4-gnutls-dev)
herald_require(OPENSSL openssl       1.1.1  libssl-dev)
herald_require(MHD     libmicrohttpd 0.9.71 libmicrohttpd-dev)
if(HERALD_USE_JEMALLOC)
  herald_require(JEMALLOC jemalloc 5.2 libjemalloc-dev)
endif()
