// File: task.h
// Tabletop tasks modelled on RoboTwin 2.0's: each places its objects (seeded), states its sub-tasks
// (completeness = fraction done), checks success from the simulator state, has a control-step limit,
// instruction phrasings split into seen and unseen, and a scripted expert plan (expert.h) written in
// terms of effector grasp frames, so one script serves grippers and human hands alike.
//
//   const Task* t = FindTask("stack_blocks");
//   std::string xml = t->ObjectsXml(rng, table_z, 0.0);   // then BuildSceneXml(rig, appearance, xml)
//   TaskProgress p = t->Check(env, ctx);
//
// Tasks are immutable singletons; every method is const and thread-safe.
#ifndef MIVLA_SIM_TASK_H_
#define MIVLA_SIM_TASK_H_

#include <random>
#include <string>
#include <vector>

#include "core/action/action_space.h"
#include "sim/expert.h"
#include "sim/sim_env.h"

namespace mivla::sim {

struct TaskSpec {
  std::string name;
  bool two_arm = false;
  int step_limit = 400;  // control steps (25 Hz)
  std::vector<std::string> subtasks;
  std::vector<std::string> seen_instructions;
  std::vector<std::string> unseen_instructions;
};

struct TaskProgress {
  std::vector<bool> subtasks;
  bool success = false;
};

/// Which effectors of the rig a task drives (indices into Rig::effectors, -1 = unused).
struct TaskContext {
  double table_z = 0.75;
  int primary = 0;  // one-arm tasks: the right arm / right hand
  int left = -1;    // two-arm tasks
  int right = -1;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual const TaskSpec& spec() const = 0;
  /// Object bodies (free joints; static fixtures without) at seeded poses on a table at `table_z`,
  /// shifted sideways by `dy` (to centre one-arm layouts on an arm that is not on the midline).
  virtual std::string ObjectsXml(std::mt19937_64& rng, double table_z, double dy) const = 0;
  virtual TaskProgress Check(const SimEnv& env, const TaskContext& ctx) const = 0;
  /// The scripted expert's plan, computed from the scene as it is at the episode start.
  virtual Plan ExpertPlan(const SimEnv& env, const TaskContext& ctx) const = 0;
};

/// All tasks, in a fixed order.
const std::vector<const Task*>& AllTasks();
/// nullptr when unknown.
const Task* FindTask(const std::string& name);
/// Embodiments that can do the task: one-arm tasks PiPER, ARX-5, LocoMan, human (one hand);
/// two-arm tasks ALOHA-AgileX, LocoMan, human (two hands).
std::vector<action::Embodiment> SupportedEmbodiments(const Task& task);
/// Sideways shift of a task's layout for an embodiment (LocoMan's right arm sits off the midline).
double LayoutShift(const Task& task, action::Embodiment embodiment);
/// The effector assignment of `rig` for `task`.
TaskContext MakeContext(const Task& task, const Rig& rig, double table_z);

}  // namespace mivla::sim

#endif  // MIVLA_SIM_TASK_H_
