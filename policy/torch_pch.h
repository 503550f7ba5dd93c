// Precompiled header for torch-heavy targets: the narrow LibTorch headers Forge uses, never
// <torch/torch.h>. Listed in CMake with target_precompile_headers, not included by hand.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>
#include <torch/optim/adamw.h>
