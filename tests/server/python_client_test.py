#!/usr/bin/env python3
"""mivla-server from another language: a Python gRPC client built only from proto/mivla/v1/policy.proto.

GetPolicyInfo; grpc.health.v1 SERVING; StartSession (PIPER, two 320x240 RAW_RGB8 cameras); Observe;
Act with a seed (chunk: PIPER, H steps, 6 joint targets + unit quaternion per step, timestamps =
observation time + k x control period, 76-entry valid mask, model version); the same seed twice gives
the same chunk, another seed a different one; StreamAct with 3 observations (answers in order, ids
increasing); ReportEpisode (counted in /metrics); EndSession, after which Observe and Act get NOT_FOUND;
SIGTERM exits 0.
"""

import math

import server_harness as sh


def check_chunk(h, chunk, *, horizon, period_s, obs_time_us, obs_id):
    from mivla.v1 import policy_pb2 as pb
    h.check(chunk.embodiment == pb.PIPER, f"chunk.embodiment = {pb.Embodiment.Name(chunk.embodiment)}, want PIPER")
    h.check(len(chunk.steps) == horizon, f"chunk has {len(chunk.steps)} steps, want action_horizon {horizon}")
    h.check(len(chunk.valid_mask) == 76, f"valid_mask has {len(chunk.valid_mask)} entries, want 76")
    valid = sum(chunk.valid_mask)
    h.check(0 < valid < 76, f"valid_mask marks {valid} of 76 slots for a one-armed robot")
    h.check(abs(chunk.control_period_s - period_s) < 1e-9,
            f"chunk.control_period_s {chunk.control_period_s} != session's {period_s}")
    h.check(chunk.observation_id == obs_id, f"chunk.observation_id {chunk.observation_id} != {obs_id}")
    for k, step in enumerate(chunk.steps):
        want_ts = obs_time_us + round(k * period_s * 1e6)
        h.check(abs(step.timestamp_us - want_ts) <= 1,
                f"step {k}: timestamp_us {step.timestamp_us}, want {want_ts} (obs time + k x period)")
        right = step.right
        h.check(len(right.joint_positions) == 6, f"step {k}: right arm has {len(right.joint_positions)} joint targets, want 6")
        h.check(all(math.isfinite(v) for v in right.joint_positions), f"step {k}: non-finite joint target")
        h.check(math.isfinite(right.gripper), f"step {k}: non-finite gripper target")
        p = right.end_effector
        norm = math.sqrt(p.qw ** 2 + p.qx ** 2 + p.qy ** 2 + p.qz ** 2)
        h.check(abs(norm - 1.0) < 1e-6, f"step {k}: end-effector quaternion norm {norm}, want 1")
        h.check(not step.HasField("left"), f"step {k}: a one-armed PIPER chunk fills the left arm")
        h.check(len(step.unified) == 76, f"step {k}: {len(step.unified)} unified values, want 76")
        for d, (v, m) in enumerate(zip(step.unified, chunk.valid_mask)):
            h.check(math.isfinite(v), f"step {k}: unified[{d}] = {v}")
            if not m:
                h.check(v == 0.0, f"step {k}: unified[{d}] = {v} outside PIPER's valid mask, want 0")


def body(h):
    import grpc
    from mivla.v1 import policy_pb2 as pb

    srv = h.start_server("server")
    policy, health = sh.stubs(sh.insecure_channel(srv.target))

    h.check(sh.health_status(health) == "SERVING", "health (server) is not SERVING after the listening line")
    h.check(sh.health_status(health, "mivla.v1.PolicyService") == "SERVING", "health (mivla.v1.PolicyService) is not SERVING")
    code, _ = sh.rpc_code(sh.health_status, health, "no.such.Service")
    h.check(code == grpc.StatusCode.NOT_FOUND, f"health of an unknown service: {code}, want NOT_FOUND")
    h.log("health: SERVING")

    # Server reflection: the service list names PolicyService and health, and the file defining
    # mivla.v1.PolicyService comes back as a FileDescriptorProto that holds its methods.
    import server_reflection_pb2 as rpb
    import server_reflection_pb2_grpc as rgrpc
    from google.protobuf import descriptor_pb2
    refl = rgrpc.ServerReflectionStub(sh.insecure_channel(srv.target))
    answers = list(refl.ServerReflectionInfo(iter([rpb.ServerReflectionRequest(list_services=""),
                                                   rpb.ServerReflectionRequest(file_containing_symbol="mivla.v1.PolicyService")]),
                                             timeout=10))
    h.check(len(answers) == 2, f"reflection: {len(answers)} answers to 2 requests")
    names = sorted(s.name for s in answers[0].list_services_response.service)
    h.check("mivla.v1.PolicyService" in names and "grpc.health.v1.Health" in names, f"reflection services: {names}")
    fd = descriptor_pb2.FileDescriptorProto()
    fd.ParseFromString(answers[1].file_descriptor_response.file_descriptor_proto[0])
    methods = sorted(m.name for s in fd.service if s.name == "PolicyService" for m in s.method)
    h.check(methods == sorted(["StartSession", "EndSession", "Observe", "Act", "StreamAct", "GetPolicyInfo", "ReportEpisode"]),
            f"reflection: PolicyService methods {methods}")
    h.log(f"reflection: {names}")

    info = policy.GetPolicyInfo(pb.GetPolicyInfoRequest(), timeout=10)
    h.check(info.model_version != "", "GetPolicyInfo: empty model_version")
    h.check(info.config_name == "tiny", f"GetPolicyInfo: config_name '{info.config_name}', want tiny")
    h.check(info.action_dim == 76, f"GetPolicyInfo: action_dim {info.action_dim}")
    h.check(info.action_horizon > 0, "GetPolicyInfo: action_horizon 0")
    h.check(pb.PIPER in info.embodiments, f"GetPolicyInfo: PIPER not among {list(info.embodiments)}")
    h.check(info.default_control_rate_hz > 0, "GetPolicyInfo: default_control_rate_hz <= 0")
    h.log(f"GetPolicyInfo: {info.model_version}, H={info.action_horizon}, K={info.sampling_steps}")

    start = policy.StartSession(sh.start_request(), timeout=10)
    horizon, period = start.action_horizon, start.control_period_s
    h.check(start.session_id != "", "StartSession: empty session_id")
    h.check(start.model_version == info.model_version, f"StartSession: model_version {start.model_version}")
    h.check(horizon == info.action_horizon, f"StartSession: action_horizon {horizon} != {info.action_horizon}")
    h.check(abs(period - 1.0 / info.default_control_rate_hz) < 1e-9,
            f"StartSession: control_period_s {period} with control_rate_hz 0, want 1/{info.default_control_rate_hz}")
    h.check(start.idle_timeout_us > 0, "StartSession: idle_timeout_us <= 0")
    sid = start.session_id

    t_obs = 1_700_000_000_000_000
    obs = policy.Observe(sh.observe_request(sid, t_obs, seed=3), timeout=30)
    h.check(obs.observation_id >= 1, f"Observe: observation_id {obs.observation_id}")
    h.check(obs.model_version != "", "Observe: empty model_version")
    h.check(obs.timing.total_us > 0, "Observe: timing.total_us is 0")

    act = policy.Act(pb.ActRequest(session_id=sid, seed=1234), timeout=30)
    h.check(act.model_version != "", "Act: empty model_version")
    h.check(act.timing.decode_us > 0, "Act: timing.decode_us is 0")
    check_chunk(h, act.chunk, horizon=horizon, period_s=period, obs_time_us=t_obs, obs_id=obs.observation_id)
    h.figures["act_total_ms"] = act.timing.total_us / 1000
    h.log(f"Act: {len(act.chunk.steps)} steps, {sum(act.chunk.valid_mask)} valid slots, "
          f"{act.timing.total_us / 1000:.1f} ms")

    again = policy.Act(pb.ActRequest(session_id=sid, observation_id=obs.observation_id, seed=1234), timeout=30)
    h.check(again.chunk.SerializeToString(deterministic=True) == act.chunk.SerializeToString(deterministic=True),
            "Act with the same seed twice gave different chunks")
    other = policy.Act(pb.ActRequest(session_id=sid, seed=99), timeout=30)
    h.check(list(other.chunk.steps[0].unified) != list(act.chunk.steps[0].unified),
            "Act with another seed gave the same chunk (seed ignored?)")
    h.log("Act: same seed -> identical chunk, other seed -> different chunk")

    # StreamAct: three observations asking for chunks; answers must come back in request order.
    stream_times = [t_obs + 1_000_000 * (i + 1) for i in range(3)]

    def requests():
        for i, t in enumerate(stream_times):
            yield pb.StreamActRequest(observation=sh.observe_request(sid, t, seed=10 + i), want_action=True, seed=7 + i)

    responses = list(policy.StreamAct(requests(), timeout=60))
    h.check(len(responses) == 3, f"StreamAct: {len(responses)} responses to 3 requests")
    last_id = obs.observation_id
    for i, (r, t) in enumerate(zip(responses, stream_times)):
        h.check(r.observation_id > last_id, f"StreamAct response {i}: observation_id {r.observation_id} after {last_id}")
        h.check(r.HasField("action"), f"StreamAct response {i}: no action although want_action")
        h.check(r.action.chunk.observation_id == r.observation_id,
                f"StreamAct response {i}: chunk answers observation {r.action.chunk.observation_id}, not {r.observation_id}")
        h.check(r.action.chunk.steps[0].timestamp_us == t,
                f"StreamAct response {i}: first step at {r.action.chunk.steps[0].timestamp_us}, want request {i}'s time {t} "
                "(out of order?)")
        check_chunk(h, r.action.chunk, horizon=horizon, period_s=period, obs_time_us=t, obs_id=r.observation_id)
        last_id = r.observation_id
    h.log(f"StreamAct: 3 answers in order, ids {[r.observation_id for r in responses]}")

    policy.ReportEpisode(pb.ReportEpisodeRequest(session_id=sid, success=True, completeness=1.0, duration_s=12.5,
                                                 steps=125, note="python client test"), timeout=10)
    metrics = srv.scrape()
    want = 'mivla_episodes_total{embodiment="PIPER",task="press_bell"} 1'
    h.check(want in metrics, f"/metrics lacks '{want}' after ReportEpisode")
    h.check('mivla_episode_successes_total{embodiment="PIPER",task="press_bell"} 1' in metrics,
            "/metrics does not count the reported success")

    policy.EndSession(pb.EndSessionRequest(session_id=sid), timeout=10)
    code, details = sh.rpc_code(policy.Observe, sh.observe_request(sid, t_obs + 9_000_000), timeout=10)
    h.check(code == grpc.StatusCode.NOT_FOUND, f"Observe on an ended session: {code} ({details}), want NOT_FOUND")
    code, details = sh.rpc_code(policy.Act, pb.ActRequest(session_id=sid, seed=1), timeout=10)
    h.check(code == grpc.StatusCode.NOT_FOUND, f"Act on an ended session: {code} ({details}), want NOT_FOUND")
    h.log(f"EndSession: then Observe/Act -> NOT_FOUND ({details})")

    rc, seconds = srv.sigterm_and_wait(timeout=20)
    h.check(rc == 0, f"mivla-server exited with {rc} after SIGTERM")
    h.figures["shutdown_s"] = round(seconds, 2)


if __name__ == "__main__":
    sh.Harness("python_client", __doc__).run(body)
