// File: timed_action.h
// One action of a chunk, stamped with the robot-clock time (microseconds) of the control tick it is
// meant for, the chunk it came from, and the chunk step's unified values. Plain value.
#ifndef MIVLA_CLIENT_CONTROL_TIMED_ACTION_H_
#define MIVLA_CLIENT_CONTROL_TIMED_ACTION_H_

#include <array>
#include <cstdint>

#include "client/driver/robot_driver.h"
#include "core/action/action_space.h"

namespace mivla::client {

struct TimedAction {
  int64_t time_us = 0;  // robot clock
  RobotCommand command;
  uint64_t chunk_id = 0;
  // The chunk step's unified values in the session's terms (ActionStep.unified), which real-time chunking
  // sends back to the server as committed steps; blended with the command (ChunkScheduler).
  bool has_unified = false;
  std::array<float, action::kActionDim> unified{};
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_CONTROL_TIMED_ACTION_H_
