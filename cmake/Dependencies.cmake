# Third-party packages. Debian's packages on the CPU machines; on a GPU machine, a CUDA LibTorch from a
# PyTorch install (pass -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)'))
# and an Abseil unpacked from Debian's .deb (pass its usr/ folder in CMAKE_PREFIX_PATH too).

find_package(Threads REQUIRED)

# The memory allocator every executable links (cmake/MivlaHelpers.cmake): `tcmalloc` (gperftools' minimal
# tcmalloc, Debian's libgoogle-perftools-dev), or `system` (the C library's, for a machine without the
# package: scripts/gpu-check.sh). LibTorch allocates and frees each op's activations; glibc returns the
# pages of large freed blocks to the kernel and faults them in again on the next op, and tcmalloc keeps
# them. Measured on the 2-CPU machine (server/README.md, "Memory allocator"): a tiny batch-16 decode
# 255-302 -> 212-213 ms, a training step 305-313 -> 221-224 ms. core/util/malloc_tuning.h tells at run
# time which allocator is in force.
set(MIVLA_MALLOC tcmalloc CACHE STRING "Memory allocator linked into every executable: tcmalloc or system")
set_property(CACHE MIVLA_MALLOC PROPERTY STRINGS tcmalloc system)
add_library(mivla_malloc INTERFACE)
if(MIVLA_MALLOC STREQUAL "tcmalloc")
  find_library(MIVLA_TCMALLOC_LIBRARY tcmalloc_minimal)
  if(NOT MIVLA_TCMALLOC_LIBRARY)
    message(FATAL_ERROR "MIVLA_MALLOC=tcmalloc: libtcmalloc_minimal.so not found (Debian: "
                        "libgoogle-perftools-dev, in scripts/debian-packages.txt); -DMIVLA_MALLOC=system "
                        "builds with the C library's malloc")
  endif()
  # Nothing calls tcmalloc by name (it replaces malloc and operator new), so an --as-needed link drops it.
  target_link_libraries(mivla_malloc INTERFACE "-Wl,--push-state,--no-as-needed" ${MIVLA_TCMALLOC_LIBRARY}
                        "-Wl,--pop-state")
elseif(NOT MIVLA_MALLOC STREQUAL "system")
  message(FATAL_ERROR "MIVLA_MALLOC='${MIVLA_MALLOC}': expected tcmalloc or system")
endif()
add_library(mivla::malloc ALIAS mivla_malloc)
find_package(absl CONFIG REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(nlohmann_json 3 REQUIRED)

find_package(Torch REQUIRED)
# LibTorch 2.13 and later refuse to compile below C++20 (their headers #error); Debian's 1.13 is C++17.
if(Torch_VERSION VERSION_GREATER_EQUAL 2.13)
  set(CMAKE_CXX_STANDARD 20)
endif()
# LibTorch's headers warn under -Wextra: expose them as system headers through one wrapper target.
add_library(mivla_torch INTERFACE)
target_include_directories(mivla_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
target_link_libraries(mivla_torch INTERFACE ${TORCH_LIBRARIES})
separate_arguments(MIVLA_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(mivla_torch INTERFACE ${MIVLA_TORCH_CXX_FLAGS})
add_library(mivla::torch ALIAS mivla_torch)

if(MIVLA_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

if(NOT MIVLA_MODEL_ONLY)
  find_package(Protobuf REQUIRED)
  find_package(gRPC CONFIG REQUIRED)
  # cpp-httplib (metrics endpoint): Debian ships it compiled, with a pkg-config file only.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

if(NOT MIVLA_MODEL_ONLY)
  # Images and video (server image decoding, dataset JPEG/mp4), datasets (HDF5), simulation (MuJoCo,
  # rendered headless through EGL).
  find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs videoio)
  find_package(HDF5 REQUIRED COMPONENTS C)
  find_package(mujoco REQUIRED)
  find_package(OpenGL REQUIRED COMPONENTS EGL OpenGL)
endif()
