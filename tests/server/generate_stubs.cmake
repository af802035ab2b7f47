# Generates the Python gRPC stubs the server integration tests import (CTest fixture
# ServerIntegration.python_stubs): mivla/v1/policy_pb2{,_grpc}.py from the wire contract and
# health_check_pb2{,_grpc}.py (grpc.health.v1) from tests/server/proto/health_check.proto.
#   cmake -DPROTOC=protoc -DPLUGIN=/usr/bin/grpc_python_plugin -DSRC=<repo> -DOUT=<dir> -P generate_stubs.cmake
foreach(var PROTOC PLUGIN SRC OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "generate_stubs.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${PLUGIN}")
  message(FATAL_ERROR "grpc_python_plugin '${PLUGIN}' not found (Debian package protobuf-compiler-grpc)")
endif()
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
foreach(pair "${SRC}/proto|mivla/v1/policy.proto" "${SRC}/tests/server/proto|health_check.proto"
             "${SRC}/tests/server/proto|server_reflection.proto")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 include_dir)
  list(GET pair 1 proto)
  execute_process(
    COMMAND "${PROTOC}" "--python_out=${OUT}" "--grpc_out=${OUT}" "--plugin=protoc-gen-grpc=${PLUGIN}"
            "-I${include_dir}" "${include_dir}/${proto}"
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "protoc ${proto} failed (${rc}): ${err}")
  endif()
endforeach()
foreach(f mivla/v1/policy_pb2.py mivla/v1/policy_pb2_grpc.py health_check_pb2.py health_check_pb2_grpc.py
         server_reflection_pb2.py server_reflection_pb2_grpc.py)
  if(NOT EXISTS "${OUT}/${f}")
    message(FATAL_ERROR "protoc did not write ${OUT}/${f}")
  endif()
endforeach()
message(STATUS "Python stubs in ${OUT}")
