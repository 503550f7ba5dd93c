// Ranks from the launcher's environment: torchrun / PyTorchJob variables, Slurm's (with the first
// host of its compressed node list as master), none (one rank), and errors naming the variable.
#include "rl/dist/rank_env.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace forge::rl {
namespace {

absl::StatusOr<RankInfo> from(const std::map<std::string, std::string>& env) {
  return rank_from_environment([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(RankEnv, NoLauncherIsOneRank) {
  const RankInfo r = from({}).value();
  EXPECT_EQ(r.world_size, 1);
  EXPECT_FALSE(r.distributed());
  EXPECT_EQ(r.launcher, "single");
}

TEST(RankEnv, TorchrunVariables) {
  const RankInfo r = from({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"},
                           {"LOCAL_WORLD_SIZE", "4"}, {"MASTER_ADDR", "node01"},
                           {"MASTER_PORT", "23456"}})
                         .value();
  EXPECT_EQ(r.rank, 5);
  EXPECT_EQ(r.world_size, 8);
  EXPECT_EQ(r.local_rank, 1);
  EXPECT_EQ(r.local_world_size, 4);
  EXPECT_EQ(r.master_addr, "node01");
  EXPECT_EQ(r.master_port, 23456);
  EXPECT_EQ(r.launcher, "torchrun");
}

TEST(RankEnv, SlurmTaskVariablesWithTheFirstNodeAsMaster) {
  const RankInfo r = from({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"},
                           {"SLURM_NTASKS_PER_NODE", "2"}, {"SLURM_STEP_NUM_TASKS", "4"},
                           {"SLURM_JOB_NODELIST", "gpu[07-08,12],cpu1"}})
                         .value();
  EXPECT_EQ(r.rank, 3);
  EXPECT_EQ(r.world_size, 4);
  EXPECT_EQ(r.local_rank, 1);
  EXPECT_EQ(r.local_world_size, 2);
  EXPECT_EQ(r.master_addr, "gpu07");
  EXPECT_EQ(r.master_port, 29500);
  EXPECT_EQ(r.launcher, "slurm");
  // MASTER_ADDR wins over the node list.
  EXPECT_EQ(from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_STEP_NUM_TASKS", "2"},
                  {"SLURM_JOB_NODELIST", "a,b"}, {"MASTER_ADDR", "10.0.0.9"}})
                .value()
                .master_addr,
            "10.0.0.9");
  // A batch script's own shell (no step) is not a rank.
  EXPECT_FALSE(from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}}).value().distributed());
}

TEST(RankEnv, SlurmHostLists) {
  EXPECT_EQ(first_slurm_host("node01").value(), "node01");
  EXPECT_EQ(first_slurm_host("a,b,c").value(), "a");
  EXPECT_EQ(first_slurm_host("n[3-5]").value(), "n3");
  EXPECT_EQ(first_slurm_host("rack1-n[009,011-013],x").value(), "rack1-n009");
  EXPECT_FALSE(first_slurm_host("n[3-5").ok());
  EXPECT_FALSE(first_slurm_host("").ok());
}

TEST(RankEnv, BadVariablesNameThemselves) {
  auto message = [](const absl::StatusOr<RankInfo>& r) { return std::string(r.status().message()); };
  EXPECT_NE(message(from({{"WORLD_SIZE", "2"}})).find("RANK"), std::string::npos);
  EXPECT_NE(message(from({{"RANK", "0"}})).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(message(from({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"},
                          {"MASTER_PORT", "1"}}))
                .find("RANK: 'x'"),
            std::string::npos);
  EXPECT_NE(message(from({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"},
                          {"MASTER_PORT", "1"}}))
                .find("RANK: 2 is outside [0, 2)"),
            std::string::npos);
  EXPECT_NE(message(from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}))
                .find("MASTER_ADDR"),
            std::string::npos);
  EXPECT_NE(message(from({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"},
                          {"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_JOB_NODELIST", "n1"}}))
                .find("SLURM_PROCID: 4 is outside [0, 4)"),
            std::string::npos);
}

}  // namespace
}  // namespace forge::rl
