// File: can_bus.h
// A classic-CAN endpoint over Linux SocketCAN: a raw CAN socket bound to an interface (can0,
// vcan0), or an adopted file descriptor that carries whole struct can_frame records (one per
// datagram, e.g. a socketpair(AF_UNIX, SOCK_SEQPACKET) end standing in for the bus in tests).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<CanBus> bus, CanBus::Open("can0"));
//   RETURN_IF_ERROR(bus->Send(frame, absl::Milliseconds(10)));
//   absl::StatusOr<piper::CanFrame> f = bus->Receive(absl::Milliseconds(50));  // DeadlineExceeded
//
// The bus must already be up at 1 Mbit/s for the PiPER (ip link set can0 up type can bitrate
// 1000000). Errors name the interface. Owns the descriptor (closed in the destructor).
// Thread-safety: one thread may Send while another Receives; no two concurrent Sends or Receives.
#ifndef MIVLA_CLIENT_PIPER_CAN_BUS_H_
#define MIVLA_CLIENT_PIPER_CAN_BUS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/piper/piper_can_frames.h"

namespace mivla::client {

class CanBus {
 public:
  /// Opens a raw CAN socket on `interface`. Unavailable when the kernel has no SocketCAN, NotFound
  /// when the interface does not exist.
  static absl::StatusOr<std::unique_ptr<CanBus>> Open(const std::string& interface);
  /// Takes ownership of `fd` (any descriptor carrying struct can_frame datagrams); `name` is used
  /// in messages. InvalidArgument for a negative fd.
  static absl::StatusOr<std::unique_ptr<CanBus>> Adopt(int fd, std::string name);

  ~CanBus();
  CanBus(const CanBus&) = delete;
  CanBus& operator=(const CanBus&) = delete;

  /// Sends one standard-id frame, waiting up to `timeout` for room in the socket's queue.
  /// DeadlineExceeded when the queue stays full (nobody on the bus acknowledges: the arm is off).
  absl::Status Send(const piper::CanFrame& frame, absl::Duration timeout);
  /// The next standard-id data frame (remote, error and extended-id frames are skipped).
  /// DeadlineExceeded when none arrives within `timeout`; Unavailable when the other end
  /// of an adopted descriptor closed.
  absl::StatusOr<piper::CanFrame> Receive(absl::Duration timeout);

  const std::string& name() const { return name_; }

 private:
  CanBus(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  int fd_;
  std::string name_;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_PIPER_CAN_BUS_H_
