# The documents of an install, in the form Debian policy asks for (lintian's
# checks of the .deb): the man page and the Debian changelog compressed with
# gzip -9n (no name, no timestamp: the same bytes on every build), and a
# machine-readable (DEP-5) copyright file made from LICENSE.
#
# Sets HP_MAN_GZ, HP_CHANGELOG_GZ and HP_COPYRIGHT (files in the build tree)
# and adds the target that makes the compressed ones.

find_program(HP_GZIP gzip REQUIRED)
set(HP_DOCS_DIR ${CMAKE_CURRENT_BINARY_DIR}/docs)
# read at configure time below: a change reruns cmake
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE ${CMAKE_CURRENT_SOURCE_DIR}/packaging/changelog)

# hp_gzip(SRC NAME): HP_DOCS_DIR/NAME.gz is SRC compressed with gzip -9n
function(hp_gzip src name)
  add_custom_command(OUTPUT ${HP_DOCS_DIR}/${name}.gz
    COMMAND ${CMAKE_COMMAND} -E copy ${src} ${HP_DOCS_DIR}/${name}
    COMMAND ${HP_GZIP} -9nf ${HP_DOCS_DIR}/${name}
    DEPENDS ${src} COMMENT "Compressing ${name} (gzip -9n)" VERBATIM)
endfunction()

# The changelog is written by hand; its newest entry must be this version
# (lintian compares them), so a version bump without an entry stops here.
file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/packaging/changelog hp_changelog_top LIMIT_COUNT 1)
if(NOT hp_changelog_top MATCHES "^${PROJECT_NAME} \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/changelog: the newest entry is not version ${PROJECT_VERSION} "
          "(project()'s): add an entry for it")
endif()

# copyright: the notice and the licence text of LICENSE, the licence named as
# DEP-5 names MIT's (Expat)
file(READ ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE hp_license)
if(NOT hp_license MATCHES "^MIT License\n\nCopyright \\(c\\) ([^\n]+)\n\n(Permission is hereby granted, free of charge.*)$")
  message(FATAL_ERROR "LICENSE is not the MIT licence packaging/copyright.in names (Expat): update it")
endif()
set(HP_COPYRIGHT_NOTICE "${CMAKE_MATCH_1}")
string(STRIP "${CMAKE_MATCH_2}" hp_text)
string(REPLACE "\n\n" "\n.\n" hp_text "${hp_text}")
string(REPLACE "\n" "\n " HP_LICENSE_TEXT " ${hp_text}")
set(HP_MAINTAINER "${CPACK_DEBIAN_PACKAGE_MAINTAINER}")
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/packaging/copyright.in ${HP_DOCS_DIR}/copyright @ONLY)
set(HP_COPYRIGHT ${HP_DOCS_DIR}/copyright)

hp_gzip(${CMAKE_CURRENT_SOURCE_DIR}/docs/hubpredict.1 hubpredict.1)
hp_gzip(${CMAKE_CURRENT_SOURCE_DIR}/packaging/changelog changelog)
set(HP_MAN_GZ ${HP_DOCS_DIR}/hubpredict.1.gz)
set(HP_CHANGELOG_GZ ${HP_DOCS_DIR}/changelog.gz)
add_custom_target(compressed_docs ALL DEPENDS ${HP_MAN_GZ} ${HP_CHANGELOG_GZ})
