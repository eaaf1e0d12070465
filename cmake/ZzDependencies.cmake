# Finds the Debian-packaged libraries zhizeng needs; a missing one stops configuring with the
# name of the package that provides it.
include(FindPkgConfig OPTIONAL)

function(zz_require_library var lib header pkg)
  find_library(${var}_LIB NAMES ${lib})
  find_path(${var}_INC NAMES ${header} PATH_SUFFIXES openblas glpk)
  if(NOT ${var}_LIB OR NOT ${var}_INC)
    message(FATAL_ERROR "zhizeng needs ${lib} (header ${header}): install the Debian package '${pkg}' "
                        "(apt-get install ${pkg})")
  endif()
  add_library(zz::${lib} UNKNOWN IMPORTED GLOBAL)
  set_target_properties(zz::${lib} PROPERTIES IMPORTED_LOCATION "${${var}_LIB}"
                        INTERFACE_INCLUDE_DIRECTORIES "${${var}_INC}")
endfunction()

zz_require_library(ZZ_GLPK glpk glpk.h libglpk-dev)
zz_require_library(ZZ_CSV csv csv.h libcsv-dev)
zz_require_library(ZZ_INIH inih ini.h libinih-dev)

set(BLA_VENDOR OpenBLAS)
find_package(BLAS QUIET)
find_path(ZZ_CBLAS_INC NAMES cblas.h PATH_SUFFIXES openblas openblas-pthread)
if(NOT BLAS_FOUND OR NOT ZZ_CBLAS_INC)
  message(FATAL_ERROR "zhizeng needs OpenBLAS (cblas.h and libopenblas): install the Debian package "
                      "'libopenblas-dev' (apt-get install libopenblas-dev)")
endif()
add_library(zz::openblas INTERFACE IMPORTED GLOBAL)
set_target_properties(zz::openblas PROPERTIES INTERFACE_LINK_LIBRARIES "${BLAS_LIBRARIES}"
                      INTERFACE_INCLUDE_DIRECTORIES "${ZZ_CBLAS_INC}")

find_library(ZZ_MATH_LIB m)
find_package(Threads REQUIRED)
