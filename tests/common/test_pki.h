// Certificates made with the openssl command line at test time, in a folder the test owns: a CA,
// a certificate for 127.0.0.1 / localhost that it signed (usable as server and as client
// certificate), and a second, unrelated CA with a client certificate of its own.
// Thread-safety: a function.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace forge::test_support {

struct TestPki {
  std::string ca;                     // CA certificate (PEM file)
  std::string cert, key;              // signed by `ca`; SAN IP:127.0.0.1, DNS:localhost
  std::string other_ca;               // an unrelated CA
  std::string other_cert, other_key;  // signed by `other_ca`
  std::string error;                  // non-empty: openssl failed (the command)
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline TestPki make_test_pki(const std::string& dir) {
  TestPki pki;
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  {
    std::ofstream ext(dir + "/leaf.ext");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
           "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n";
  }
  auto run = [&](const std::string& args) {
    const std::string command = "cd '" + dir + "' && openssl " + args + " >/dev/null 2>&1";
    if (pki.error.empty() && std::system(command.c_str()) != 0) pki.error = command;
  };
  for (const std::string name : {"ca", "other_ca"}) {
    run("req -x509" + ec + " -keyout " + name + ".key -out " + name +
        ".pem -days 2 -subj /CN=" + name);
  }
  for (const auto& [leaf, ca] : {std::pair<std::string, std::string>{"leaf", "ca"},
                                 std::pair<std::string, std::string>{"other_leaf", "other_ca"}}) {
    run("req" + ec + " -keyout " + leaf + ".key -out " + leaf + ".csr -subj /CN=localhost");
    run("x509 -req -in " + leaf + ".csr -CA " + ca + ".pem -CAkey " + ca + ".key -CAcreateserial" +
        " -out " + leaf + ".pem -days 2 -extfile leaf.ext");
  }
  pki.ca = dir + "/ca.pem";
  pki.cert = dir + "/leaf.pem";
  pki.key = dir + "/leaf.key";
  pki.other_ca = dir + "/other_ca.pem";
  pki.other_cert = dir + "/other_leaf.pem";
  pki.other_key = dir + "/other_leaf.key";
  return pki;
}

}  // namespace forge::test_support
