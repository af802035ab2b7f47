// File: inference_worker.h
// The wall clock's inference side (hardware, real-time simulation): a worker thread that takes the
// observation the control loop hands over (RobotClientState::observation), sends Observe + Act and
// queues the chunk, so a slow or vanished server never stalls the loop. While idle it waits on the
// channel (driving its I/O, so a server that goes away is noticed within a poll of period / 8, 1..5 ms,
// even with no call in flight). A refusal (overload, a malformed chunk, a deadline while the channel is
// up) waits a backoff delay before the next request; a lost server is reconnected with capped
// exponential backoff (new channel + new session); a fatal refusal (credentials) is recorded in `fatal`
// and the worker ends. Returns when `worker_stop` is set.
#ifndef MIVLA_CLIENT_ROBOT_INFERENCE_WORKER_H_
#define MIVLA_CLIENT_ROBOT_INFERENCE_WORKER_H_

#include "client/robot/robot_client_state.h"

namespace mivla::client {

/// Runs on the worker thread RobotClient::Run starts; `s` must outlive it.
void RunInferenceWorker(RobotClientState& s);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_INFERENCE_WORKER_H_
