// File: sim_cli.cc
// mivla-sim: runs scripted-expert episodes and reports success rates, for people tuning tasks.
//   mivla-sim --task stack_blocks --embodiment piper --seeds 20 [--mode hard] [--first-seed S]
//             [--dump DIR]   (writes the first episode's camera frames every 10 steps as PPM)
// Prints one JSON object: per-seed success, completeness, steps, IK failures, and the success rate.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sim/expert.h"
#include "sim/rollout.h"

namespace {

std::string Arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return def;
}

// Steps seed `o.seed` and prints, every 5 control steps, the primary effector's grasp frame, the
// traced body's position and that body's contacts (for tuning tasks).
int Trace(const mivla::sim::EpisodeOptions& o, const std::string& body) {
  using namespace mivla::sim;
  absl::StatusOr<EpisodeScene> scene = MakeEpisodeScene(o);
  if (!scene.ok()) {
    std::cerr << scene.status() << "\n";
    return 1;
  }
  SimEnv& env = *scene->env;
  auto expert = ExpertController::Create(&env, scene->task->ExpertPlan(env, scene->context));
  if (!expert.ok()) return 1;
  const mjModel* m = env.model();
  const int id = env.BodyId(body);
  for (int step = 0; step < scene->task->spec().step_limit; ++step) {
    if (!(*expert)->Step().ok()) return 1;
    if (step % 5 != 0) continue;
    const Eigen::Vector3d tcp = env.TcpWorld(scene->context.primary).translation();
    const Eigen::Vector3d p = env.BodyPose(body).value_or(Eigen::Isometry3d::Identity()).translation();
    std::cout << "step " << step << " ikfail " << (*expert)->ik_failures() << " tcp " << tcp.transpose() << " " << body << " " << p.transpose() << " |";
    for (int c = 0; c < env.data()->ncon; ++c) {
      const mjContact& con = env.data()->contact[c];
      const int b1 = m->geom_bodyid[con.geom1], b2 = m->geom_bodyid[con.geom2];
      if (b1 != id && b2 != id) continue;
      const char* other = mj_id2name(m, mjOBJ_BODY, b1 == id ? b2 : b1);
      mjtNum f[6];
      mj_contactForce(m, env.data(), c, f);
      std::cout << " " << (other ? other : "world") << ":" << static_cast<int>(f[0] * 10) / 10.0;
    }
    std::cout << "\n";
  }
  const TaskProgress pr = scene->task->Check(env, scene->context);
  std::cout << "success " << pr.success << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mivla;
  const std::string task = Arg(argc, argv, "--task", "stack_blocks");
  absl::StatusOr<action::Embodiment> emb = action::ParseEmbodiment(Arg(argc, argv, "--embodiment", "piper"));
  if (!emb.ok()) {
    std::cerr << "mivla-sim: --embodiment: " << emb.status() << "\n";
    return 2;
  }
  const int seeds = std::stoi(Arg(argc, argv, "--seeds", "5"));
  const int first = std::stoi(Arg(argc, argv, "--first-seed", "0"));
  const std::string dump = Arg(argc, argv, "--dump", "");
  sim::EpisodeOptions o;
  o.task = task;
  o.embodiment = *emb;
  if (!dump.empty()) o.extra_cameras = {"side", "front"};
  o.mode = Arg(argc, argv, "--mode", "easy") == "hard" ? sim::Mode::kHard : sim::Mode::kEasy;
  const std::string trace = Arg(argc, argv, "--trace", "");
  if (!trace.empty()) {
    o.seed = first;
    return Trace(o, trace);
  }
  std::unique_ptr<sim::Renderer> renderer;
  if (!dump.empty()) {
    absl::StatusOr<std::unique_ptr<sim::Renderer>> r = sim::Renderer::Create();
    if (!r.ok()) {
      std::cerr << "mivla-sim: " << r.status() << "\n";
      return 1;
    }
    renderer = std::move(*r);
  }
  nlohmann::json out;
  out["task"] = task;
  out["embodiment"] = std::string(action::EmbodimentName(*emb));
  out["mode"] = sim::ModeName(o.mode);
  int successes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = first; s < first + seeds; ++s) {
    o.seed = s;
    o.render = !dump.empty() && s == first;
    o.record = o.render;
    absl::StatusOr<sim::Episode> ep = sim::RunEpisode(o, renderer.get());
    if (!ep.ok()) {
      std::cerr << "mivla-sim: seed " << s << ": " << ep.status() << "\n";
      return 1;
    }
    successes += ep->success;
    out["episodes"].push_back({{"seed", s}, {"success", ep->success}, {"completeness", ep->completeness},
                               {"steps", ep->num_steps}, {"ik_failures", ep->ik_failures}});
    std::cerr << "seed " << s << ": " << (ep->success ? "success" : "FAIL") << " completeness " << ep->completeness
              << " steps " << ep->num_steps << " ik_failures " << ep->ik_failures << "\n";
    if (o.render) {
      for (size_t k = 0; k < ep->steps.size(); k += 10) {
        for (size_t c = 0; c < ep->cameras.size(); ++c) {
          const sim::Image& img = ep->steps[k].images[c];
          std::ofstream f(absl::StrCat(dump, "/", ep->cameras[c].name, "_", absl::Dec(k, absl::kZeroPad4), ".ppm"),
                          std::ios::binary);
          f << "P6\n" << img.width << " " << img.height << "\n255\n";
          f.write(reinterpret_cast<const char*>(img.rgb.data()), img.rgb.size());
        }
      }
    }
  }
  out["success_rate"] = static_cast<double>(successes) / std::max(1, seeds);
  out["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << out.dump() << "\n";
  return 0;
}
