// mivla-demo: the main job on an embedded default, for `make demo`. Until the server and the simulated
// robots land, it runs the MiVLA `tiny` model (randomly initialised with a fixed seed: no trained
// checkpoint is bundled yet) on a sample observation per embodiment, in one mixed batch, and prints the
// action chunk of each and the timings. Results also go to JSON (--out, default build/demo.json).
//
//   mivla-demo [--instruction TEXT] [--seed N] [--out FILE] [--source-dir DIR]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/action/action_space.h"
#include "core/model/flow_matching.h"
#include "core/model/mivla_model.h"
#include "core/model/synthetic_inputs.h"
#include "core/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"

namespace {

using mivla::action::Embodiment;

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int Main(int argc, char** argv) {
  std::string instruction = "move the bottle onto the pad";
  std::string out_path = "build/demo.json";
  std::string source_dir = MIVLA_SOURCE_DIR;
  uint64_t seed = 7;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "mivla-demo: " << k << " needs a value (flags: --instruction, --seed, --out, --source-dir)\n";
      return 2;
    }
    std::string v = argv[++i];
    if (k == "--instruction") instruction = v;
    else if (k == "--seed") seed = std::stoull(v);
    else if (k == "--out") out_path = v;
    else if (k == "--source-dir") source_dir = v;
    else {
      std::cerr << "mivla-demo: unknown flag '" << k << "'\n";
      return 2;
    }
  }
  const std::string tok_path = source_dir + "/" + mivla::tokenizer::kTinyTokenizerModelPath;
  auto tok = mivla::tokenizer::Tokenizer::FromFile(tok_path);
  if (!tok.ok()) {
    std::cerr << "mivla-demo: " << tok.status() << "\n";
    return 1;
  }
  mivla::model::ModelConfig cfg = mivla::model::TinyConfig();
  torch::manual_seed(seed);
  mivla::model::MivlaModel model(cfg);
  model->eval();
  torch::InferenceMode inference;

  const std::vector<Embodiment> es = {Embodiment::kPiper, Embodiment::kArx5, Embodiment::kAlohaAgilex,
                                      Embodiment::kLocoman, Embodiment::kHuman};
  mivla::model::ModelInputs in = mivla::model::SyntheticInputs(cfg, es, seed, 240);
  std::vector<int64_t> ids = (*tok)->Encode(instruction, cfg.text.max_tokens);
  const int64_t b = es.size(), l = ids.size();
  in.text_ids = torch::tensor(ids, torch::kLong).view({1, l}).repeat({b, 1});
  in.text_mask = torch::ones({b, l}, torch::kBool);

  auto t0 = std::chrono::steady_clock::now();
  mivla::model::ConditionTokens cond = model->Encode(in);
  const double encode_ms = MsSince(t0);
  t0 = std::chrono::steady_clock::now();
  torch::Tensor noise = mivla::model::SampleNoise(b, cfg.decoder.action_horizon, mivla::action::kActionDim, seed);
  torch::Tensor chunk = mivla::model::EulerSample(*model, model->PrepareDecoding(cond), noise,
                                                  cfg.decoder.sampling_steps);
  const double decode_ms = MsSince(t0);

  nlohmann::json out = {{"model", "tiny (random init, seed " + std::to_string(seed) + ")"},
                        {"instruction", instruction},
                        {"instruction_tokens", ids},
                        {"batch", b},
                        {"encode_ms", encode_ms},
                        {"decode_ms", decode_ms},
                        {"sampling_steps", cfg.decoder.sampling_steps},
                        {"chunks", nlohmann::json::array()}};
  std::printf("MiVLA demo: tiny model (random init, seed %llu), instruction \"%s\" (%lld tokens)\n",
              static_cast<unsigned long long>(seed), instruction.c_str(), static_cast<long long>(l));
  std::printf("one mixed batch of %lld observations: encode %.1f ms, decode (%d Euler steps) %.1f ms\n",
              static_cast<long long>(b), encode_ms, cfg.decoder.sampling_steps, decode_ms);
  for (int64_t i = 0; i < b; ++i) {
    mivla::action::ActionMask mask = mivla::action::EmbodimentMask(es[i]);
    std::vector<std::vector<float>> steps;
    for (int64_t h = 0; h < chunk.size(1); ++h) {
      std::vector<float> row;
      for (int d = 0; d < mivla::action::kActionDim; ++d) {
        if (mask.test(d)) row.push_back(chunk[i][h][d].item<float>());
      }
      steps.push_back(row);
    }
    std::printf("  %-12s %2zu valid slots, step 0: [", std::string(mivla::action::EmbodimentName(es[i])).c_str(),
                steps[0].size());
    for (size_t d = 0; d < std::min<size_t>(7, steps[0].size()); ++d) std::printf("%s%.3f", d ? ", " : "", steps[0][d]);
    std::printf("%s]\n", steps[0].size() > 7 ? ", ..." : "");
    out["chunks"].push_back({{"embodiment", mivla::action::EmbodimentName(es[i])}, {"steps", steps}});
  }
  std::ofstream(out_path) << out.dump(2) << "\n";
  std::printf("full chunks (normalised units) written to %s\n", out_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
