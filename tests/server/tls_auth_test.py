#!/usr/bin/env python3
"""mivla-server with TLS, mutual TLS and bearer tokens, seen from a Python client.

openssl makes (in the work directory, at test time) a CA, a server certificate for localhost
(SAN DNS:localhost, IP:127.0.0.1), a client certificate, and a second, unrelated CA with its own client
certificate. Three servers are started in turn:
  1. --tls-cert/--tls-key: a client trusting the CA connects (by IP and by name); a plaintext client and
     a client trusting the wrong CA fail.
  2. + --tls-client-ca (mutual TLS): a client presenting the client certificate succeeds; one presenting
     none, or one signed by the wrong CA, fails.
  3. --token-file (over TLS): `authorization: Bearer <token>` with either listed token succeeds (unary and
     streaming calls); a wrong, malformed or missing token gets UNAUTHENTICATED; health answers without.
"""

import subprocess

import server_harness as sh

EXTRA = [(("--openssl",), {"default": "/usr/bin/openssl"})]
DEADLINE_S = 5  # a refused TLS handshake shows up as UNAVAILABLE before this


def openssl(h, *args):
    r = subprocess.run([h.args.openssl, *args], cwd=h.args.workdir, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise sh.CheckFailed(f"openssl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def make_ca(h, name):
    openssl(h, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN=MiVLA test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_leaf(h, name, ca, cn, extensions):
    with open(h.path(f"{name}.ext"), "w") as f:
        f.write(extensions)
    openssl(h, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
    openssl(h, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")


def read(h, name):
    with open(h.path(name), "rb") as f:
        return f.read()


def make_pki(h):
    make_ca(h, "ca")
    make_ca(h, "wrong_ca")
    make_leaf(h, "server", "ca", "localhost",
              "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n"
              "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    client_ext = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
    make_leaf(h, "client", "ca", "robot-1", client_ext)
    make_leaf(h, "rogue_client", "wrong_ca", "rogue-robot", client_ext)
    text = openssl(h, "x509", "-in", "server.crt", "-noout", "-ext", "subjectAltName")
    h.check("DNS:localhost" in text and "IP Address:127.0.0.1" in text, f"server certificate SAN: {text}")
    openssl(h, "verify", "-CAfile", "ca.crt", "server.crt", "client.crt")


def creds(h, ca="ca", client=None):
    import grpc
    kwargs = {"root_certificates": read(h, f"{ca}.crt")}
    if client:
        kwargs["private_key"] = read(h, f"{client}.key")
        kwargs["certificate_chain"] = read(h, f"{client}.crt")
    return grpc.ssl_channel_credentials(**kwargs)


def info_code(channel, metadata=None):
    """Status code of a GetPolicyInfo call on `channel` (and its channel closed)."""
    from mivla.v1 import policy_pb2 as pb
    policy, _ = sh.stubs(channel)
    code, answer = sh.rpc_code(policy.GetPolicyInfo, pb.GetPolicyInfoRequest(), timeout=DEADLINE_S, metadata=metadata)
    channel.close()
    return code, answer


def tls_server(h):
    import grpc
    OK, UNAVAILABLE = grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE
    srv = h.start_server("tls_server", ["--tls-cert", h.path("server.crt"), "--tls-key", h.path("server.key")])
    code, ans = info_code(sh.secure_channel(srv.target, creds(h)))
    h.check(code == OK, f"TLS client trusting the CA, to {srv.target}: {code} {ans}")
    # The DNS SAN, checked by name without needing a resolver (a bare CI machine may have no
    # /etc/hosts): connect by address, verify the certificate against the name "localhost".
    code, ans = info_code(sh.secure_channel(srv.target, creds(h), override_name="localhost"))
    h.check(code == OK, f"TLS client trusting the CA, to {srv.target} as localhost: {code} {ans}")
    h.check(ans.model_version != "", "GetPolicyInfo over TLS: empty model_version")
    code, ans = info_code(sh.secure_channel(srv.target, creds(h), override_name="robot.example"))
    h.check(code == UNAVAILABLE, f"TLS client expecting a name not in the certificate: {code} {ans}, want UNAVAILABLE")
    _, health = sh.stubs(sh.secure_channel(srv.target, creds(h)))
    h.check(sh.health_status(health) == "SERVING", "health over TLS is not SERVING")
    code, ans = info_code(sh.insecure_channel(srv.target))
    h.check(code == UNAVAILABLE, f"plaintext client to a TLS server: {code} {ans}, want UNAVAILABLE")
    code, ans = info_code(sh.secure_channel(srv.target, creds(h, ca="wrong_ca")))
    h.check(code == UNAVAILABLE, f"TLS client trusting the wrong CA: {code} {ans}, want UNAVAILABLE")
    h.log("TLS: CA-trusting client OK (IP and DNS SAN); wrong name, plaintext and wrong-CA clients refused")
    rc, _ = srv.sigterm_and_wait(timeout=20)
    h.check(rc == 0, f"TLS server exited with {rc} after SIGTERM")


def mtls_server(h):
    import grpc
    OK, UNAVAILABLE = grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE
    srv = h.start_server("mtls_server", ["--tls-cert", h.path("server.crt"), "--tls-key", h.path("server.key"),
                                         "--tls-client-ca", h.path("ca.crt")])
    code, ans = info_code(sh.secure_channel(srv.target, creds(h, client="client")))
    h.check(code == OK, f"mTLS client presenting the client certificate: {code} {ans}")
    code, ans = info_code(sh.secure_channel(srv.target, creds(h)))
    h.check(code == UNAVAILABLE, f"mTLS server, client without a certificate: {code} {ans}, want UNAVAILABLE")
    code, ans = info_code(sh.secure_channel(srv.target, creds(h, client="rogue_client")))
    h.check(code == UNAVAILABLE, f"mTLS server, client certificate from the wrong CA: {code} {ans}, want UNAVAILABLE")
    h.log("mTLS: client certificate OK; no certificate and wrong-CA certificate refused")
    rc, _ = srv.sigterm_and_wait(timeout=20)
    h.check(rc == 0, f"mTLS server exited with {rc} after SIGTERM")


def token_server(h):
    import grpc
    from mivla.v1 import policy_pb2 as pb
    OK, UNAUTH = grpc.StatusCode.OK, grpc.StatusCode.UNAUTHENTICATED
    with open(h.path("tokens.txt"), "w") as f:
        f.write("# robots of cell 1\nrobot-token-1\n\n  robot-token-2  \n")
    srv = h.start_server("token_server", ["--tls-cert", h.path("server.crt"), "--tls-key", h.path("server.key"),
                                          "--token-file", h.path("tokens.txt")])
    # Per-call metadata, and the standard call credentials that send the same header.
    for token in ("robot-token-1", "robot-token-2"):
        code, ans = info_code(sh.secure_channel(srv.target, creds(h)), metadata=[("authorization", f"Bearer {token}")])
        h.check(code == OK, f"GetPolicyInfo with token '{token}': {code} {ans}")
    composite = grpc.composite_channel_credentials(creds(h), grpc.access_token_call_credentials("robot-token-1"))
    policy, health = sh.stubs(sh.secure_channel(srv.target, composite))
    sid = policy.StartSession(sh.start_request(), timeout=10).session_id
    responses = list(policy.StreamAct(iter([pb.StreamActRequest(observation=sh.observe_request(sid, 5_000_000),
                                                                want_action=True, seed=1)]), timeout=60))
    h.check(len(responses) == 1 and len(responses[0].action.chunk.steps) > 0,
            f"StreamAct with access-token call credentials: {responses}")
    h.check(sh.health_status(health) == "SERVING", "health with a token is not SERVING")

    plain_policy, plain_health = sh.stubs(sh.secure_channel(srv.target, creds(h)))
    for label, md in (("a wrong token", [("authorization", "Bearer robot-token-3")]),
                      ("a token prefix", [("authorization", "Bearer robot-token")]),
                      ("no Bearer scheme", [("authorization", "robot-token-1")]),
                      ("an empty token", [("authorization", "Bearer ")]),
                      ("no authorization", None)):
        code, ans = sh.rpc_code(plain_policy.GetPolicyInfo, pb.GetPolicyInfoRequest(), timeout=DEADLINE_S, metadata=md)
        h.check(code == UNAUTH, f"GetPolicyInfo with {label}: {code} {ans}, want UNAUTHENTICATED")
        code, ans = sh.rpc_code(plain_policy.Act, pb.ActRequest(session_id=sid, seed=1), timeout=DEADLINE_S, metadata=md)
        h.check(code == UNAUTH, f"Act on a live session with {label}: {code} {ans}, want UNAUTHENTICATED")
    code, ans = sh.rpc_code(lambda: list(plain_policy.StreamAct(
        iter([pb.StreamActRequest(observation=sh.observe_request(sid, 6_000_000), want_action=True)]), timeout=DEADLINE_S)))
    h.check(code == UNAUTH, f"StreamAct without a token: {code} {ans}, want UNAUTHENTICATED")
    code, ans = sh.rpc_code(plain_policy.EndSession, pb.EndSessionRequest(session_id=sid), timeout=DEADLINE_S)
    h.check(code == UNAUTH, f"EndSession without a token: {code} {ans}, want UNAUTHENTICATED")
    h.check(sh.health_status(plain_health) == "SERVING", "health without a token does not answer SERVING")
    # The refused EndSession left the session alive: the robot with the token still acts on it.
    act = policy.Act(pb.ActRequest(session_id=sid, seed=2), timeout=30)
    h.check(len(act.chunk.steps) > 0, "Act with the token after refused calls returned no steps")
    h.log("tokens: both listed tokens accepted (metadata and call credentials); wrong/malformed/missing -> "
          "UNAUTHENTICATED; health open")
    rc, _ = srv.sigterm_and_wait(timeout=20)
    h.check(rc == 0, f"token server exited with {rc} after SIGTERM")


def body(h):
    h.require_tool(h.args.openssl, "openssl")
    make_pki(h)
    h.log("openssl: CA, server (localhost, 127.0.0.1) and client certificates, plus a wrong CA")
    tls_server(h)
    mtls_server(h)
    token_server(h)


if __name__ == "__main__":
    sh.Harness("tls_auth", __doc__, EXTRA).run(body)
