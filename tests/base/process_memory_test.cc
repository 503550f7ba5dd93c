#include "base/process_memory.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

constexpr size_t kBlock = 8 << 20;  // a training step's activation-sized buffer

// Where blocks escape to, so that the compiler keeps the malloc/free pairs it could elide.
void* volatile escaped = nullptr;

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Allocates, writes and frees a kBlock buffer; returns the page faults that cost.
long fill_and_free_a_block() {
  const long before = minor_page_faults();
  void* block = std::malloc(kBlock);
  std::memset(block, 1, kBlock);
  escaped = block;
  std::free(block);
  return minor_page_faults() - before;
}

// What every training step relies on: a buffer freed at the end of one step is reused by the
// next without the kernel zeroing its pages again (2048 page faults for 8 MiB).
TEST(ProcessMemory, AFreedBlockIsReusedWithoutPageFaults) {
  ASSERT_TRUE(forge::keep_freed_memory_for_reuse());
  const size_t mapped_before = mallinfo2().hblkhd;
  void* block = std::malloc(kBlock);
  escaped = block;
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before) << "the block was mmapped on its own";
  std::free(block);
  EXPECT_GE(mallinfo2().fordblks, kBlock) << "the freed block went back to the kernel";

  fill_and_free_a_block();
  EXPECT_LT(fill_and_free_a_block(), 64);
  // Torch's worker threads allocate too: theirs are kept the same way.
  long thread_faults = -1;
  std::thread worker([&] {
    fill_and_free_a_block();
    thread_faults = fill_and_free_a_block();
  });
  worker.join();
  EXPECT_GE(thread_faults, 0);
  EXPECT_LT(thread_faults, 64);
}

}  // namespace
