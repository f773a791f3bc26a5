# hp_harden(TARGET...): the hardening flags Debian's dpkg-buildflags gives a
# package (lintian's binaries/hardening check): stack protector, PIE, full
# RELRO (-z relro -z now) and, in the optimised builds, _FORTIFY_SOURCE=2.
#
# _FORTIFY_SOURCE needs optimisation (glibc warns without -O, and -Werror makes
# that an error), so it is left out of Debug and of any other build type that
# does not optimise. It is left out of the sanitizer build too: the fortified
# __*_chk functions bypass AddressSanitizer's interceptors of memcpy, strcpy
# and the like, so ASan would see less. -U first: a compiler that defines it
# by default (Ubuntu's gcc) would otherwise warn that it is redefined.
option(HUBPREDICT_HARDENING "Build with the hardening flags (stack protector, PIE, RELRO, bind now, _FORTIFY_SOURCE=2)" ON)

include(CheckPIESupported)
check_pie_supported(LANGUAGES C)

function(hp_harden)
  if(NOT HUBPREDICT_HARDENING)
    return()
  endif()
  foreach(t ${ARGN})
    set_target_properties(${t} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    target_compile_options(${t} PRIVATE -fstack-protector-strong)
    if(NOT HUBPREDICT_SANITIZE)
      target_compile_options(${t} PRIVATE
        "$<$<IN_LIST:$<CONFIG>,Release;RelWithDebInfo;MinSizeRel>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
    endif()
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "EXECUTABLE" OR type STREQUAL "MODULE_LIBRARY" OR type STREQUAL "SHARED_LIBRARY")
      target_link_options(${t} PRIVATE LINKER:-z,relro LINKER:-z,now)
    endif()
  endforeach()
endfunction()
