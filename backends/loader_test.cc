// The loader against real shared libraries (backends/testdata/): a plugin that loads, and ones that are
// missing, speak another ABI version, lack the entry point, call themselves something else, have a field
// check_plugin refuses, or cannot run here.
#include "backends/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ir/error.h"

namespace stratum {
namespace {

// The folder of the test plugins, from the test's runfiles.
std::string testdata_dir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir ? srcdir : ".") + "/stratum/backends/testdata";
}

// The message load_plugin(name) fails with; "" when it loads.
std::string load_error(const std::string& name) {
  try {
    load_plugin(name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "'" << part << "' is not in: " << text;
}

class LoaderTest : public testing::Test {
 protected:
  void SetUp() override { setenv("STRATUM_PLUGIN_PATH", testdata_dir().c_str(), 1); }
  void TearDown() override { unsetenv("STRATUM_PLUGIN_PATH"); }
};

TEST_F(LoaderTest, ReferenceIsAlwaysAvailable) {
  setenv("STRATUM_PLUGIN_PATH", "/nonexistent", 1);
  EXPECT_STREQ(load_plugin("reference").name, "reference");
  EXPECT_EQ(available_plugins().at(0), "reference");
}

TEST_F(LoaderTest, ListsThePluginsOnThePath) {
  const std::vector<std::string> names = available_plugins();
  EXPECT_EQ(names.at(0), "reference");
  for (const char* name : {"badversion", "minimal", "misnamed", "noentry", "norun"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

TEST_F(LoaderTest, SearchesThePathVariableFirst) {
  setenv("STRATUM_PLUGIN_PATH", "/a::/b", 1);
  const std::vector<std::string> dirs = plugin_search_path("mine");
  ASSERT_GE(dirs.size(), 3u);
  EXPECT_EQ(dirs[0], "/a");
  EXPECT_EQ(dirs[1], "/b");
  EXPECT_TRUE(contains(dirs.back(), "plugins/mine"));
}

TEST_F(LoaderTest, LoadsAPluginOnce) {
  const stratum_plugin& plugin = load_plugin("minimal");
  EXPECT_STREQ(plugin.name, "minimal");
  EXPECT_EQ(&load_plugin("minimal"), &plugin);
}

TEST_F(LoaderTest, AVersionMismatchNamesBothVersions) {
  const std::string error = load_error("badversion");
  EXPECT_TRUE(contains(error, "libstratum_badversion.so"));
  EXPECT_TRUE(contains(error, "ABI version 999"));
  EXPECT_TRUE(contains(error, "speaks version 1"));
  EXPECT_TRUE(contains(error, "available plugins: reference, "));
}

TEST_F(LoaderTest, AMissingPluginNamesItsFileTheFoldersAndTheAvailablePlugins) {
  const std::string error = load_error("nosuch");
  EXPECT_TRUE(contains(error, "no plugin 'nosuch'"));
  EXPECT_TRUE(contains(error, "libstratum_nosuch.so"));
  EXPECT_TRUE(contains(error, testdata_dir()));
  EXPECT_TRUE(contains(error, "plugins/nosuch"));
  EXPECT_TRUE(contains(error, "available plugins: reference, "));
  EXPECT_TRUE(contains(error, "minimal"));
}

// Communicators load by name like plugins: the MPI one from the runfiles where MPI was found; a missing one
// says where it was looked for and what installs it.
TEST_F(LoaderTest, CommunicatorsLoadByNameAndAMissingOneSaysWhy) {
  std::string error;
  try {
    load_communicator("nosuch");
  } catch (const Error& e) {
    error = e.what();
  }
  EXPECT_TRUE(contains(error, "no communicator 'nosuch': libstratumcomm_nosuch.so is in none of"));
  EXPECT_TRUE(contains(error, "plugins/nosuch"));
  EXPECT_TRUE(contains(error, "tools/setup.sh installs OpenMPI"));
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (!std::filesystem::exists(std::string(srcdir ? srcdir : ".") +
                               "/stratum/plugins/mpi/libstratumcomm_mpi.so"))
    GTEST_SKIP() << "no MPI communicator built here (Bazel found no mpicc)";
  const stratum_communicator& mpi = load_communicator("mpi");
  EXPECT_STREQ(mpi.name, "mpi");
  EXPECT_STREQ(mpi.device_kind, "cpu");
  EXPECT_EQ(&load_communicator("mpi"), &mpi);  // once
}

TEST_F(LoaderTest, ALibraryWithoutTheEntryPointIsRefused) {
  const std::string error = load_error("noentry");
  EXPECT_TRUE(contains(error, "libstratum_noentry.so is no Stratum plugin"));
  EXPECT_TRUE(contains(error, "no entry point stratum_plugin_entry"));
}

TEST_F(LoaderTest, APluginThatCallsItselfSomethingElseIsRefused) {
  EXPECT_TRUE(contains(load_error("misnamed"), "calls itself 'someone_else', not 'misnamed'"));
}

// Each test plugin with one bad field, and what the loader says about it after naming the plugin.
TEST_F(LoaderTest, APluginWithABadFieldIsRefusedNamingTheField) {
  const std::pair<const char*, std::string> cases[] = {
      {"oldsize", "struct_size is " + std::to_string(offsetof(stratum_plugin, last_error)) +
                      ", but plugin ABI version 1 needs at least " +
                      std::to_string(offsetof(stratum_plugin, unavailable))},
      {"noname", "name is null"},
      {"nodevicekind", "device_kind is null"},
      {"tpu", "device_kind is 'tpu', not cpu or gpu"},
      {"norun", "required function 'run' is null"},
      {"nolasterror", "required function 'last_error' is null"},
      {"staleschema",
       "op 'relu' was built against another schema of it (rebuild the plugin): only the plugin has "
       "'slope:float=0.0'; only this Stratum has ''"},
      {"unknownop", "lists op 'no_such_op', which this Stratum does not have"},
  };
  for (const auto& [name, message] : cases) {
    const std::string error = load_error(name);
    EXPECT_TRUE(
        contains(error, fmt::format("plugin '{}' ({}/libstratum_{}.so): ", name, testdata_dir(), name)));
    EXPECT_TRUE(contains(error, message));
  }
}

TEST_F(LoaderTest, AFieldIsReadOnlyWhereTheStructSizeCoversIt) {
  try {
    load_plugin("away");
    ADD_FAILURE() << "loaded";
  } catch (const PluginUnavailable& e) {
    EXPECT_EQ(e.reason(), "the test plugin is away");
  }
  // The same plugin built before `unavailable` existed: the loader does not read it.
  EXPECT_STREQ(load_plugin("awaybefore").name, "awaybefore");
}

TEST_F(LoaderTest, TheReferencePluginPassesItsOwnChecks) {
  EXPECT_NO_THROW(check_plugin(load_plugin("reference"), "reference"));
}

// A plugin may list any subset of the ops; each schema is compared with Stratum's, a kind or default that
// changed as much as an attribute added.
TEST_F(LoaderTest, ASchemaMismatchSaysWhatDiffers) {
  stratum_plugin plugin = load_plugin("reference");
  const stratum_op_schema changed[] = {{"dropout", "2 inputs; p:float=0.25; seed:int=0; training:bool=true"}};
  plugin.n_op_schemas = 1;
  plugin.op_schemas = changed;
  try {
    check_plugin(plugin, "mine");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "mine: op 'dropout' was built against another schema"));
    EXPECT_TRUE(
        contains(e.what(), "only the plugin has 'p:float=0.25'; only this Stratum has 'p:float=0.5'"));
  }
}

}  // namespace
}  // namespace stratum
