/* The C ABI of Forge reward-rule plugins: a shared library that exports one function,
 *
 *   FORGE_REWARD_PLUGIN_EXPORT const ForgeRewardPlugin* forge_reward_plugin(uint32_t host_abi);
 *
 * returning a pointer to a static, versioned table of function pointers. Name the library in the
 * run config (`reward.plugins: [path/to/librule.so]`) and give it a weight under its rule name
 * (`reward.weights: {myrule: 0.5}`); `reward.plugin_options.myrule` is handed to create() as JSON.
 * examples/plugins/ holds a complete plugin in C.
 *
 * Contract:
 * - abi_version must be FORGE_REWARD_PLUGIN_ABI_VERSION and struct_size >= the size of version 1's
 *   table; otherwise Forge refuses to load the plugin and says why. `host_abi` tells the plugin the
 *   version Forge speaks (a plugin may return NULL when it cannot serve it).
 * - Strings the plugin returns through `char**` (error messages, details) are allocated by the
 *   plugin and released by Forge through the plugin's own free_string(), so the two sides never
 *   mix allocators. Strings Forge passes in are owned by Forge, NUL-terminated UTF-8, valid only
 *   during the call.
 * - grade() is called from many threads at once when flags has FORGE_REWARD_PLUGIN_THREAD_SAFE;
 *   otherwise Forge serialises the calls of one instance.
 * - A plugin runs inside the reward server's process: it must not crash, exit, or block past the
 *   item's timeout_s. Rewards must lie in [min_reward, max_reward]; Forge reports any other value
 *   (and NaN) as an error for that item.
 */
#ifndef FORGE_REWARD_PLUGIN_ABI_H_
#define FORGE_REWARD_PLUGIN_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FORGE_REWARD_PLUGIN_ABI_VERSION 1u
/* The name of the one exported function. */
#define FORGE_REWARD_PLUGIN_ENTRY_NAME "forge_reward_plugin"
#define FORGE_REWARD_PLUGIN_EXPORT __attribute__((visibility("default")))

/* flags */
#define FORGE_REWARD_PLUGIN_THREAD_SAFE 1u

/* grade() return codes */
#define FORGE_REWARD_OK 0
#define FORGE_REWARD_INVALID_ARGUMENT 1 /* the item lacks what the rule needs; *detail says what */
#define FORGE_REWARD_DEADLINE_EXCEEDED 2
#define FORGE_REWARD_INTERNAL 3

/* One item, shaped like a line of `forge grade`'s input. */
typedef struct ForgeRewardItem {
  const char* id;
  const char* completion;
  const char* answer;         /* "" when none */
  const char* prediction;     /* "" when none */
  const char* tests_json;     /* "null" when none */
  int64_t completion_tokens;  /* -1 when unknown */
  double timeout_s;           /* seconds left to grade this item */
} ForgeRewardItem;

typedef struct ForgeRewardPlugin {
  uint32_t abi_version; /* FORGE_REWARD_PLUGIN_ABI_VERSION */
  uint32_t struct_size; /* sizeof(ForgeRewardPlugin) */
  const char* name;     /* the rule name: [a-z0-9_-]+, unique among rules */
  const char* description;
  double min_reward; /* every reward lies in [min_reward, max_reward] */
  double max_reward;
  uint32_t flags; /* FORGE_REWARD_PLUGIN_THREAD_SAFE, ... */

  /* Builds one instance from `options_json` (a JSON object, "{}" when none). Returns NULL on
   * failure with *error set to a message (freed with free_string). */
  void* (*create)(const char* options_json, char** error);
  void (*destroy)(void* instance);
  /* Grades `item`: on FORGE_REWARD_OK sets *reward, and *detail to a short line or NULL; on any
   * other code, *detail holds the error message (or NULL). */
  int (*grade)(void* instance, const ForgeRewardItem* item, double* reward, char** detail);
  /* Frees a string this plugin returned. */
  void (*free_string)(char* s);
} ForgeRewardPlugin;

typedef const ForgeRewardPlugin* (*ForgeRewardPluginEntry)(uint32_t host_abi);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FORGE_REWARD_PLUGIN_ABI_H_ */
