/* A reward plugin for the loader's tests, built three ways (tests/reward/CMakeLists.txt):
 *   as is                         the `fixture` rule, not thread-safe, with scripted misbehaviour
 *   -DFIXTURE_ABI_VERSION=99       claims an ABI version Forge does not speak
 *   -DFIXTURE_NO_ENTRY             exports no entry point
 * The `fixture` rule: completion "range" -> reward 2 (outside [0, 1]); "" -> INVALID_ARGUMENT;
 * otherwise reward = length of the completion / 100, capped at 1, and it counts concurrent calls
 * to prove Forge serialises a plugin that is not thread-safe.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reward/plugin_abi.h"

#ifndef FIXTURE_ABI_VERSION
#define FIXTURE_ABI_VERSION FORGE_REWARD_PLUGIN_ABI_VERSION
#endif

static char* copy_string(const char* s) {
  char* out = (char*)malloc(strlen(s) + 1);
  strcpy(out, s);
  return out;
}

static int g_inside = 0;      /* calls inside grade() right now */
static int g_max_inside = 0;  /* most calls ever inside at once */

static void* create(const char* options_json, char** error) {
  if (strstr(options_json, "\"fail\"") != NULL) {
    *error = copy_string("asked to fail");
    return NULL;
  }
  return malloc(1);
}

static void destroy(void* instance) { free(instance); }

static int grade(void* instance, const ForgeRewardItem* item, double* reward, char** detail) {
  (void)instance;
  int inside = __atomic_add_fetch(&g_inside, 1, __ATOMIC_SEQ_CST);
  if (inside > g_max_inside) g_max_inside = inside;
  struct timespec pause = {0, 2 * 1000 * 1000};
  nanosleep(&pause, NULL);
  int rc = FORGE_REWARD_OK;
  if (strcmp(item->completion, "") == 0) {
    *detail = copy_string("completion: the fixture needs text");
    rc = FORGE_REWARD_INVALID_ARGUMENT;
  } else if (strcmp(item->completion, "error") == 0) {
    *detail = copy_string("the fixture's backend is down");
    rc = FORGE_REWARD_INTERNAL;
  } else if (strcmp(item->completion, "range") == 0) {
    *reward = 2.0;
    *detail = NULL;
  } else {
    size_t len = strlen(item->completion);
    *reward = len >= 100 ? 1.0 : (double)len / 100.0;
    char buffer[96];
    snprintf(buffer, sizeof buffer, "%zu bytes, max concurrent %d, answer '%s'", len, g_max_inside,
             item->answer);
    *detail = copy_string(buffer);
  }
  __atomic_sub_fetch(&g_inside, 1, __ATOMIC_SEQ_CST);
  return rc;
}

static void free_string(char* s) { free(s); }

static const ForgeRewardPlugin kPlugin = {
    FIXTURE_ABI_VERSION, sizeof(ForgeRewardPlugin), "fixture", "scripted test plugin", 0.0, 1.0,
    0 /* not thread-safe */, create, destroy, grade, free_string,
};

#ifndef FIXTURE_NO_ENTRY
FORGE_REWARD_PLUGIN_EXPORT const ForgeRewardPlugin* forge_reward_plugin(uint32_t host_abi) {
  (void)host_abi;
  return &kPlugin;
}
#else
/* Exported, but under the wrong name. */
FORGE_REWARD_PLUGIN_EXPORT const ForgeRewardPlugin* forge_reward_plugin_v0(uint32_t host_abi) {
  (void)host_abi;
  return &kPlugin;
}
#endif
