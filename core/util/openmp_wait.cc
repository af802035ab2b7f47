#include "core/util/openmp_wait.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mivla {

void PreferPassiveOpenMpWait(char** argv) {
  if (std::getenv(kOpenMpWaitPolicyVar) != nullptr) return;
  if (::setenv(kOpenMpWaitPolicyVar, "PASSIVE", /*overwrite=*/0) != 0) return;
  std::fflush(nullptr);
  ::execv("/proc/self/exe", argv);
  // Still here: exec failed. The variable stays set, so children started from here get it.
  std::fprintf(stderr, "warning: could not re-execute with %s=PASSIVE (%s); OpenMP threads will spin\n",
               kOpenMpWaitPolicyVar, std::strerror(errno));
}

}  // namespace mivla
