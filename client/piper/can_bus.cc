// File: can_bus.cc
#include "client/piper/can_bus.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mivla::client {
namespace {

std::string Errno(int e) { return absl::StrCat(strerror(e), " (errno ", e, ")"); }

int TimeoutMs(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  if (d == absl::InfiniteDuration()) return -1;
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))));
}

// Waits for `events` on fd; 1 ready, 0 timeout, -1 error (errno set).
int Wait(int fd, short events, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, TimeoutMs(deadline - absl::Now()));
    if (r < 0 && errno == EINTR) continue;
    if (r > 0 && (p.revents & (POLLERR | POLLNVAL)) && !(p.revents & events)) {
      errno = (p.revents & POLLNVAL) ? EBADF : EIO;
      return -1;
    }
    return r > 0 ? 1 : r;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<CanBus>> CanBus::Open(const std::string& interface) {
  if (interface.empty() || interface.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrCat("CAN interface name '", interface,
                                                   "' is empty or longer than ", IFNAMSIZ - 1,
                                                   " characters"));
  }
  const int fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, CAN_RAW);
  if (fd < 0) {
    const int e = errno;
    return absl::UnavailableError(
        absl::StrCat("CAN interface ", interface, ": cannot open a raw CAN socket: ", Errno(e),
                     e == EAFNOSUPPORT ? "; this kernel has no SocketCAN" : ""));
  }
  ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  std::memcpy(ifr.ifr_name, interface.data(), interface.size());
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
    const int e = errno;
    close(fd);
    return absl::NotFoundError(absl::StrCat("CAN interface ", interface, " not found: ", Errno(e),
                                            "; bring it up with 'ip link set ", interface,
                                            " up type can bitrate 1000000'"));
  }
  sockaddr_can addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.can_family = AF_CAN;
  addr.can_ifindex = ifr.ifr_ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    const int e = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("CAN interface ", interface, ": bind failed: ", Errno(e)));
  }
  return std::unique_ptr<CanBus>(new CanBus(fd, interface));
}

absl::StatusOr<std::unique_ptr<CanBus>> CanBus::Adopt(int fd, std::string name) {
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat("CAN bus ", name, ": invalid descriptor ", fd));
  }
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("CAN bus ", name, ": descriptor ", fd, " unusable: ", Errno(errno)));
  }
  return std::unique_ptr<CanBus>(new CanBus(fd, std::move(name)));
}

CanBus::~CanBus() { close(fd_); }

absl::Status CanBus::Send(const piper::CanFrame& frame, absl::Duration timeout) {
  if (frame.len > 8 || frame.id > CAN_SFF_MASK) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CAN bus %s: frame id 0x%X / length %d is not a standard 11-bit frame",
                        name_, frame.id, frame.len));
  }
  can_frame raw;
  std::memset(&raw, 0, sizeof(raw));
  raw.can_id = frame.id;
  raw.can_dlc = frame.len;
  std::memcpy(raw.data, frame.data.data(), 8);
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const ssize_t n = send(fd_, &raw, sizeof(raw), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(sizeof(raw))) return absl::OkStatus();
    if (n >= 0) {
      return absl::InternalError(absl::StrCat("CAN bus ", name_, ": short write of ", n, " bytes"));
    }
    const int e = errno;
    if (e == EINTR) continue;
    if (e != EAGAIN && e != EWOULDBLOCK && e != ENOBUFS) {
      return absl::UnavailableError(absl::StrCat("CAN bus ", name_, ": send failed: ", Errno(e)));
    }
    // ENOBUFS: the interface's transmit queue is full (no acknowledgement on the bus).
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "CAN bus ", name_, ": transmit queue full for ", absl::FormatDuration(timeout),
          " (is the arm powered and the bus terminated?)"));
    }
    if (e == ENOBUFS) {
      absl::SleepFor(std::min(left, absl::Microseconds(200)));
    } else if (Wait(fd_, POLLOUT, left) < 0) {
      return absl::UnavailableError(
          absl::StrCat("CAN bus ", name_, ": poll failed: ", Errno(errno)));
    }
  }
}

absl::StatusOr<piper::CanFrame> CanBus::Receive(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    can_frame raw;
    const ssize_t n = recv(fd_, &raw, sizeof(raw), 0);
    if (n == 0) {
      return absl::UnavailableError(absl::StrCat("CAN bus ", name_, ": the other end closed"));
    }
    if (n < 0) {
      const int e = errno;
      if (e == EINTR) continue;
      if (e != EAGAIN && e != EWOULDBLOCK) {
        return absl::UnavailableError(
            absl::StrCat("CAN bus ", name_, ": receive failed: ", Errno(e)));
      }
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(
            absl::StrCat("CAN bus ", name_, ": no frame within ", absl::FormatDuration(timeout)));
      }
      if (Wait(fd_, POLLIN, left) < 0) {
        return absl::UnavailableError(
            absl::StrCat("CAN bus ", name_, ": poll failed: ", Errno(errno)));
      }
      continue;
    }
    if (n != static_cast<ssize_t>(sizeof(raw))) {
      return absl::DataLossError(absl::StrCat("CAN bus ", name_, ": received ", n,
                                              " bytes, expected a ", sizeof(raw),
                                              "-byte can_frame"));
    }
    if (raw.can_id & (CAN_ERR_FLAG | CAN_RTR_FLAG | CAN_EFF_FLAG)) continue;
    piper::CanFrame f;
    f.id = raw.can_id & CAN_SFF_MASK;
    f.len = raw.can_dlc > 8 ? 8 : raw.can_dlc;
    std::memcpy(f.data.data(), raw.data, 8);
    return f;
  }
}

}  // namespace mivla::client
