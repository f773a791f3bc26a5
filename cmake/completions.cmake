# cmake -DBIN=path/to/hubpredict -DOUT=dir -P completions.cmake
# Writes the completion scripts the built binary generates from its own option
# table: OUT/hubpredict (bash), OUT/_hubpredict (zsh), OUT/hubpredict.fish.
file(MAKE_DIRECTORY "${OUT}")
foreach(pair "bash;hubpredict" "zsh;_hubpredict" "fish;hubpredict.fish")
  list(GET pair 0 shell)
  list(GET pair 1 name)
  execute_process(COMMAND "${BIN}" completion ${shell} OUTPUT_FILE "${OUT}/${name}.tmp"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${BIN} completion ${shell}: exit ${rc}")
  endif()
  file(RENAME "${OUT}/${name}.tmp" "${OUT}/${name}")
endforeach()
