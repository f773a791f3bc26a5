# Run by cmake --install and cpack (install(SCRIPT) in CMakeLists.txt): puts
# the zsh completion HP_ZSH_SRC where zsh looks for the prefix of this install,
# which is only known now (cmake --install --prefix, cpack's /usr):
#   - under /usr, Debian's zsh reads DATADIR/zsh/vendor-completions (its
#     site-functions folder is /usr/local's);
#   - under any other prefix, DATADIR/zsh/site-functions, zsh's own default
#     ($prefix/share/zsh/site-functions, /usr/local's on Debian).
# HP_ZSH_DIR (-DHUBPREDICT_ZSH_COMPLETIONS_DIR=, relative to the prefix or
# absolute) overrides it, e.g. share/zsh/site-functions for a /usr package of
# a distribution whose zsh reads that.
if(HP_ZSH_DIR)
  set(dir "${HP_ZSH_DIR}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "(^|/)usr/*$")
  # cpack installs into <staging>/usr, so the prefix is matched by its end
  set(dir "${HP_ZSH_DATADIR}/zsh/vendor-completions")
else()
  set(dir "${HP_ZSH_DATADIR}/zsh/site-functions")
endif()
if(NOT IS_ABSOLUTE "${dir}")
  set(dir "${CMAKE_INSTALL_PREFIX}/${dir}")
endif()
file(INSTALL DESTINATION "${dir}" TYPE FILE FILES "${HP_ZSH_SRC}")
