// File: timed_action.h
// One action of a chunk, stamped with the robot-clock time (microseconds) of the control tick it is
// meant for, and the chunk it came from. Plain value.
#ifndef MIVLA_CLIENT_CONTROL_TIMED_ACTION_H_
#define MIVLA_CLIENT_CONTROL_TIMED_ACTION_H_

#include <cstdint>

#include "client/driver/robot_driver.h"

namespace mivla::client {

struct TimedAction {
  int64_t time_us = 0;  // robot clock
  RobotCommand command;
  uint64_t chunk_id = 0;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_CONTROL_TIMED_ACTION_H_
