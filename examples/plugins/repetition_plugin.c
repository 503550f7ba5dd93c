/* An example Forge reward plugin, in plain C: the `repetition` rule rewards completions that do not
 * loop. The reward is the fraction of distinct word n-grams among all word n-grams of the
 * completion (1.0: no n-gram repeats; near 0: the same phrase over and over). Completions with
 * fewer than n words get 1.0.
 *
 * Options (reward.plugin_options.repetition): {"n": 3} (1..16, default 3).
 *
 * Build: see CMakeLists.txt beside this file; the library needs only reward/plugin_abi.h.
 * Use:   reward: {plugins: [path/to/libforge_repetition_reward.so], weights: {repetition: 0.2}}
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reward/plugin_abi.h"

typedef struct Instance {
  int n;
} Instance;

static char* copy_string(const char* s) {
  size_t len = strlen(s);
  char* out = (char*)malloc(len + 1);
  if (out != NULL) memcpy(out, s, len + 1);
  return out;
}

/* Reads "n" from a flat JSON object such as {"n": 4}; returns `fallback` when absent. */
static int read_n(const char* json, int fallback, int* ok) {
  const char* key = strstr(json, "\"n\"");
  *ok = 1;
  if (key == NULL) return fallback;
  const char* colon = strchr(key + 3, ':');
  if (colon == NULL) {
    *ok = 0;
    return fallback;
  }
  char* end = NULL;
  long value = strtol(colon + 1, &end, 10);
  if (end == colon + 1) *ok = 0;
  return (int)value;
}

static void* create(const char* options_json, char** error) {
  int ok = 1;
  int n = read_n(options_json, 3, &ok);
  if (!ok || n < 1 || n > 16) {
    *error = copy_string("n: expected an integer in [1, 16]");
    return NULL;
  }
  Instance* instance = (Instance*)malloc(sizeof(Instance));
  if (instance == NULL) {
    *error = copy_string("out of memory");
    return NULL;
  }
  instance->n = n;
  return instance;
}

static void destroy(void* instance) { free(instance); }

/* FNV-1a over one n-gram of words, each word given by [start, start + len). */
static uint64_t hash_ngram(const char* text, const size_t* starts, const size_t* lens, size_t first,
                           int n) {
  uint64_t h = 1469598103934665603ull;
  for (int k = 0; k < n; ++k) {
    for (size_t i = 0; i < lens[first + k]; ++i) {
      h ^= (unsigned char)text[starts[first + k] + i];
      h *= 1099511628211ull;
    }
    h ^= 0x1f; /* word separator */
    h *= 1099511628211ull;
  }
  return h;
}

static int compare_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static int grade(void* state, const ForgeRewardItem* item, double* reward, char** detail) {
  const Instance* instance = (const Instance*)state;
  const char* text = item->completion;
  size_t len = strlen(text);
  size_t* starts = (size_t*)malloc(sizeof(size_t) * (len / 2 + 1));
  size_t* lens = (size_t*)malloc(sizeof(size_t) * (len / 2 + 1));
  if (starts == NULL || lens == NULL) {
    free(starts);
    free(lens);
    *detail = copy_string("out of memory");
    return FORGE_REWARD_INTERNAL;
  }
  size_t words = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && isspace((unsigned char)text[i])) ++i;
    if (i >= len) break;
    starts[words] = i;
    while (i < len && !isspace((unsigned char)text[i])) ++i;
    lens[words] = i - starts[words];
    ++words;
  }
  char buffer[128];
  if (words < (size_t)instance->n) {
    *reward = 1.0;
    snprintf(buffer, sizeof buffer, "%zu words (< n = %d)", words, instance->n);
  } else {
    size_t count = words - (size_t)instance->n + 1;
    uint64_t* hashes = (uint64_t*)malloc(sizeof(uint64_t) * count);
    if (hashes == NULL) {
      free(starts);
      free(lens);
      *detail = copy_string("out of memory");
      return FORGE_REWARD_INTERNAL;
    }
    for (size_t i = 0; i < count; ++i) hashes[i] = hash_ngram(text, starts, lens, i, instance->n);
    qsort(hashes, count, sizeof(uint64_t), compare_u64);
    size_t distinct = 0;
    for (size_t i = 0; i < count; ++i) distinct += (i == 0 || hashes[i] != hashes[i - 1]);
    free(hashes);
    *reward = (double)distinct / (double)count;
    snprintf(buffer, sizeof buffer, "%zu of %zu %d-grams distinct", distinct, count, instance->n);
  }
  free(starts);
  free(lens);
  *detail = copy_string(buffer);
  return FORGE_REWARD_OK;
}

static void free_string(char* s) { free(s); }

static const ForgeRewardPlugin kPlugin = {
    FORGE_REWARD_PLUGIN_ABI_VERSION,
    sizeof(ForgeRewardPlugin),
    "repetition",
    "fraction of distinct word n-grams in the completion (1: no repetition)",
    0.0,
    1.0,
    FORGE_REWARD_PLUGIN_THREAD_SAFE,
    create,
    destroy,
    grade,
    free_string,
};

FORGE_REWARD_PLUGIN_EXPORT const ForgeRewardPlugin* forge_reward_plugin(uint32_t host_abi) {
  (void)host_abi;
  return &kPlugin;
}
