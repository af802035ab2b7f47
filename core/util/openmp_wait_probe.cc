// Test helper for openmp_wait_test: prints its process id before and after PreferPassiveOpenMpWait and
// the OMP_WAIT_POLICY it ends up with, one "key=value" line each.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/util/openmp_wait.h"

int main(int argc, char** argv) {
  const char* before = std::getenv(mivla::kOpenMpWaitPolicyVar);
  std::printf("start pid=%d policy=%s\n", static_cast<int>(::getpid()), before ? before : "(unset)");
  mivla::PreferPassiveOpenMpWait(argv);
  const char* after = std::getenv(mivla::kOpenMpWaitPolicyVar);
  std::printf("running pid=%d policy=%s args=%d\n", static_cast<int>(::getpid()), after ? after : "(unset)",
              argc);
  return 0;
}
