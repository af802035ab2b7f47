// File: task_objects.h
// Building blocks for the tasks (internal to sim/): MJCF of free objects and fixtures with grasp-ready
// contact settings (friction 1.5, condim 4), seeded placement helpers, and the factory functions of
// the six tasks that task.cc registers. Pure functions; thread-safe.
#ifndef MIVLA_SIM_TASK_OBJECTS_H_
#define MIVLA_SIM_TASK_OBJECTS_H_

#include <random>
#include <string>

#include "Eigen/Core"
#include "sim/task.h"

namespace mivla::sim {

double Uniform(std::mt19937_64& rng, double lo, double hi);

/// A free box body `name` with half sizes `half`, resting on the table at (x, y) with yaw.
std::string FreeBox(const std::string& name, double x, double y, double table_z, double yaw,
                    const Eigen::Vector3d& half, const Eigen::Vector4d& rgba, double mass);
/// A free upright cylinder.
std::string FreeCylinder(const std::string& name, double x, double y, double table_z, double radius,
                         double half_height, const Eigen::Vector4d& rgba, double mass);

/// Horizontal distance between two points.
double XyDistance(const Eigen::Vector3d& a, const Eigen::Vector3d& b);
/// Angle between a body's z axis and the world's z axis.
double Tilt(const Eigen::Isometry3d& pose);
/// For a cube (any face may point up): angle between the most vertical body axis and the world's z.
double CubeTilt(const Eigen::Isometry3d& pose);
/// True when no effector of the rig touches the body.
bool Untouched(const SimEnv& env, int body_id);

const Task* BottleToPadTask();
const Task* BlockInBasketTask();
const Task* StackBlocksTask();
const Task* PressBellTask();
const Task* HandoverBlockTask();
const Task* LiftPotTask();

}  // namespace mivla::sim

#endif  // MIVLA_SIM_TASK_OBJECTS_H_
