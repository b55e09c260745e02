// The loader against real shared libraries (backends/testdata/): a plugin that loads, and ones that are
// missing, speak another ABI version, lack the entry point or call themselves something else.
#include "backends/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
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
  for (const char* name : {"badversion", "minimal", "misnamed", "noentry"}) {
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

TEST_F(LoaderTest, ALibraryWithoutTheEntryPointIsRefused) {
  const std::string error = load_error("noentry");
  EXPECT_TRUE(contains(error, "libstratum_noentry.so is no Stratum plugin"));
  EXPECT_TRUE(contains(error, "no entry point stratum_plugin_entry"));
}

TEST_F(LoaderTest, APluginThatCallsItselfSomethingElseIsRefused) {
  EXPECT_TRUE(contains(load_error("misnamed"), "calls itself 'someone_else', not 'misnamed'"));
}

}  // namespace
}  // namespace stratum
