// Process-wide allocator policy for Forge's programs (call once, at the top of main).
#pragma once

namespace forge {

// glibc hands blocks above its mmap threshold (128 KiB, growing to at most 32 MiB) back to the
// kernel when they are freed, so every training or decoding step, and every 4 MiB weight chunk a
// worker receives, page-faults its buffers in afresh (measured: ~11% of an SFT step, ~25% of a
// weight push), and a thread's arena unmaps its heaps when they empty. Forge allocates the same
// sizes step after step: this keeps freed memory in one heap for reuse instead. The peak footprint is unchanged; memory is not returned to the OS
// until exit. A no-op on other C libraries.
void keep_freed_memory_for_reuse();

}  // namespace forge
