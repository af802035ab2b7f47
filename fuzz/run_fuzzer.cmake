# cmake -DEXE=... -DSEEDS=corpus/<name> -DWORK=<dir> -DSECONDS=N -P run_fuzzer.cmake: runs one fuzzer
# for N seconds on a working corpus (seeded from SEEDS, grown across runs); fails on any crash.
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/../../artifacts)
execute_process(COMMAND ${EXE} -max_total_time=${SECONDS} -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
                        -artifact_prefix=${WORK}/../../artifacts/ ${WORK}/corpus ${SEEDS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: [0-9]+" runs "${err}")
string(REGEX MATCH "DONE +cov: [0-9]+ ft: [0-9]+" cov "${err}")
message("${EXE}: ${runs}, ${cov}")
if(NOT rc EQUAL 0)
  string(LENGTH "${err}" n)
  if(n GREATER 6000)
    math(EXPR start "${n} - 6000")
    string(SUBSTRING "${err}" ${start} 6000 err)
  endif()
  message(FATAL_ERROR "${EXE} failed (${rc}):\n${err}")
endif()
