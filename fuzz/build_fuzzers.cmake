# cmake -DCLANGXX=... -DSRC=fuzz/targets -DBIN=build/fuzz -P build_fuzzers.cmake: configures and builds
# the libFuzzer targets with clang++.
if(NOT CLANGXX)
  message(FATAL_ERROR "clang++ not found: install clang and libclang-rt-14-dev (bash scripts/install-deps.sh)")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${BIN} -DCMAKE_CXX_COMPILER=${CLANGXX}
                        -DCMAKE_BUILD_TYPE=RelWithDebInfo RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the fuzz targets failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BIN} -j 2 RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the fuzz targets failed (${rc})")
endif()
