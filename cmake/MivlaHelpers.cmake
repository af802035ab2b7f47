# mivla_cc_library / mivla_cc_test: one named target per component (after Abseil's absl_cc_library),
# warnings as errors on the project's own code, ccache-friendly.
#
#   mivla_cc_library(NAME action SRCS a.cc HDRS a.h DEPS absl::status [PCH header.h])
#     -> target mivla_action, alias mivla::action
#   mivla_cc_test(NAME action_test SRCS a_test.cc DEPS mivla::action [TIMEOUT s] [LABELS l] [SYSTEM_MALLOC])
#     -> executable build/bin/tests/mivla_action_test, registered with CTest (one entry per gtest case)
#   mivla_cc_binary(NAME mivla-tool SRCS main.cc DEPS ...)
# Every executable links mivla::malloc (the allocator the server ships with, cmake/Dependencies.cmake), so
# the tests run on what is deployed; SYSTEM_MALLOC keeps a test on the C library's (its own checks).

# MIVLA_WERROR=OFF keeps the warnings but not as errors: for a compiler the code has not been built with
# (a GPU machine's image with a newer GCC) where a new warning must not stop a measurement.
option(MIVLA_WERROR "Treat the project's compiler warnings as errors" ON)
set(MIVLA_WARNINGS -Wall -Wextra -Wno-unused-parameter)
if(MIVLA_WERROR)
  list(APPEND MIVLA_WARNINGS -Werror)
endif()

# Environment of every test that runs the model. CTest runs two tests at once on the 2-core CI
# machine; Debian's LibTorch multiplies matrices with OpenBLAS (pthreads), whose threads, one per core
# by default, spin while they wait, so two such processes starve each other. Measured with two
# mivla-bench-model processes side by side: tiny decode 156 ms (batch 1) and 1482 ms (batch 16) with two
# OpenBLAS threads each, 73 ms and 910 ms with one. (Alone, two threads are faster: 48 vs 79-116 ms.)
# One entry: gtest_discover_tests splits PROPERTIES values at ';'.
set(MIVLA_TEST_ENVIRONMENT OPENBLAS_NUM_THREADS=1)

function(mivla_cc_library)
  cmake_parse_arguments(ARG "" "NAME;PCH" "SRCS;HDRS;DEPS" ${ARGN})
  set(target mivla_${ARG_NAME})
  if(ARG_SRCS)
    add_library(${target} STATIC ${ARG_SRCS} ${ARG_HDRS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/gen)
    target_link_libraries(${target} PUBLIC ${ARG_DEPS})
    target_compile_options(${target} PRIVATE ${MIVLA_WARNINGS})
    if(ARG_PCH)
      target_precompile_headers(${target} PRIVATE ${ARG_PCH})
    endif()
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
  endif()
  add_library(mivla::${ARG_NAME} ALIAS ${target})
endfunction()

function(mivla_cc_test)
  cmake_parse_arguments(ARG "SYSTEM_MALLOC" "NAME;TIMEOUT;PCH_FROM" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT MIVLA_BUILD_TESTS)
    return()
  endif()
  set(target mivla_${ARG_NAME})
  add_executable(${target} ${ARG_SRCS})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  if(NOT ARG_SYSTEM_MALLOC)
    target_link_libraries(${target} PRIVATE mivla::malloc)
  endif()
  target_compile_options(${target} PRIVATE ${MIVLA_WARNINGS})
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
  if(ARG_PCH_FROM)
    target_precompile_headers(${target} REUSE_FROM ${ARG_PCH_FROM})
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(props TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${MIVLA_TEST_ENVIRONMENT}")
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  gtest_discover_tests(${target}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES ${props})
endfunction()

function(mivla_cc_binary)
  cmake_parse_arguments(ARG "" "NAME;PCH_FROM" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} mivla::malloc)
  target_compile_options(${ARG_NAME} PRIVATE ${MIVLA_WARNINGS})
  if(ARG_PCH_FROM)
    target_precompile_headers(${ARG_NAME} REUSE_FROM ${ARG_PCH_FROM})
  endif()
endfunction()
