// File: request_failure.h
// What a failed chunk request (Observe + Act, StartSession on a reconnect) means for the robot client:
//   kRefused  the server is alive but did not answer this request: overload (RESOURCE_EXHAUSTED), a
//             malformed chunk (INVALID_ARGUMENT), a deadline (a slow server): retry after a backoff
//             delay, same session;
//   kLost     the channel is down or the server forgot the session (anything else): new channel + new
//             session;
//   kFatal    the server refuses this client (UNAUTHENTICATED, PERMISSION_DENIED): end the run,
//             reconnecting cannot help.
// Pure functions; thread-safe.
#ifndef MIVLA_CLIENT_ROBOT_REQUEST_FAILURE_H_
#define MIVLA_CLIENT_ROBOT_REQUEST_FAILURE_H_

#include "absl/status/status.h"

namespace mivla::client {

enum class Failure { kRefused, kLost, kFatal };

Failure ClassifyFailure(const absl::Status& s);

/// The error that ends a run on a kFatal failure: `s` with what to check (token, client certificate).
absl::Status FatalClientError(const absl::Status& s);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_REQUEST_FAILURE_H_
