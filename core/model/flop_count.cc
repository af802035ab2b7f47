#include "core/model/flop_count.h"

#include "core/action/action_space.h"

namespace mivla::model {
namespace {

// 2 * m * k * n for an [m, k] x [k, n] product.
double Mm(double m, double k, double n) { return 2.0 * m * k * n; }

double Vit(const VitConfig& c, double out_width) {
  const double p = c.num_patches();
  const double t = p + (c.style == "dinov2" ? 1 : 0);
  const double w = c.width;
  double f = Mm(p, 3.0 * c.patch_size * c.patch_size, w);  // patch embedding
  f += c.depth * (Mm(t, w, 4 * w) + 2 * Mm(t, w, t) + 2 * Mm(t, w, c.mlp_dim));
  f += Mm(p, w, out_width) + Mm(p, out_width, out_width);  // 2-layer projection MLP
  return f;
}

}  // namespace

FlopCount CountFlops(const ModelConfig& c, int views, int text_tokens) {
  FlopCount out;
  const double w = c.decoder.width;
  const double h = c.decoder.action_horizon;
  const double s = h + 4;  // prefix tokens + action tokens
  const double nv = static_cast<double>(views) * c.vision_tokens_per_view();
  const double l = text_tokens;
  const double a = action::kActionDim;

  out.vision_per_view = Vit(c.dino, w) + Vit(c.siglip, w);
  const T5Config& t = c.text;
  const double inner = static_cast<double>(t.heads) * t.d_kv;
  out.text = t.layers * (Mm(l, t.d_model, 4 * inner) + 2 * Mm(l, inner, l) + Mm(l, t.d_model, 3.0 * t.d_ff)) +
             Mm(l, t.d_model, w) + Mm(l, w, w);
  out.prefix = Mm(1, 2.0 * action::kHumanDim, w) + Mm(1, 2.0 * action::kRobotJointsDim, w) +
               Mm(1, 2.0 * action::kEndEffectorDim, w) + 3 * 2 * Mm(1, w, w);

  const DecoderConfig& d = c.decoder;
  out.decode_context = d.depth * (Mm(nv, w, 2 * w) + Mm(l, w, 2 * w));
  double block = Mm(1, w, 9 * w);                       // adaLN
  block += Mm(s, w, 4 * w) + 2 * Mm(s, w, s);           // self-attention
  block += Mm(s, w, 2 * w) + 2 * Mm(s, w, nv);          // vision cross-attention (q, o)
  block += Mm(s, w, 2 * w) + 2 * Mm(s, w, l);           // language cross-attention (q, o)
  block += Mm(s, w, 3.0 * d.ffn_dim);                   // SwiGLU
  out.decode_step = d.depth * block;
  out.decode_step += Mm(h, a, w) + 2 * Mm(h, w, w);                   // action input MLP
  out.decode_step += Mm(1, d.frequency_dim, w) + Mm(1, w, w);         // time embedding
  out.decode_step += Mm(1, w, 2 * w) + Mm(h, w, w) + Mm(h, w, a);     // final layer
  out.decode_total = out.decode_context + d.sampling_steps * out.decode_step;
  out.encode_total = views * out.vision_per_view + out.text + out.prefix;
  return out;
}

}  // namespace mivla::model
