#include "reward/math/plus_minus.h"

#include <vector>

namespace forge::reward::math {
namespace {

constexpr int kMaxSigns = 4;
constexpr size_t kMaxVariants = 64;

int count_signs(const MathExpr& e, int n) {
  const Node& node = e.at(n);
  int c = node.kind == NodeKind::kPlusMinus ? 1 : 0;
  for (int k : node.kids) c += count_signs(e, k);
  return c;
}

class Expander {
 public:
  explicit Expander(const MathExpr& src) : src_(src) {}

  // Variants of node n, as node indices in out_. Empty on failure.
  std::vector<int> expand(int n) {
    const Node& node = src_.at(n);
    switch (node.kind) {
      case NodeKind::kList:
      case NodeKind::kSet: {
        Node copy = shell(node);
        for (int k : node.kids) {
          std::vector<int> v = expand(k);
          if (v.empty()) return {};
          copy.kids.insert(copy.kids.end(), v.begin(), v.end());
        }
        if (copy.kids.size() > kMaxVariants * 4) return {};
        return {out_.add(std::move(copy))};
      }
      case NodeKind::kTuple:
      case NodeKind::kInterval:
      case NodeKind::kMatrix:
      case NodeKind::kRatio:
      case NodeKind::kUnion:
      case NodeKind::kRelation: {
        // Cartesian product of the kids' variants.
        std::vector<std::vector<int>> combos(1);
        for (int k : node.kids) {
          std::vector<int> v = expand(k);
          if (v.empty()) return {};
          std::vector<std::vector<int>> next;
          for (const auto& c : combos) {
            for (int alt : v) {
              next.push_back(c);
              next.back().push_back(alt);
            }
          }
          if (next.size() > kMaxVariants) return {};
          combos = std::move(next);
        }
        std::vector<int> result;
        for (auto& c : combos) {
          Node copy = shell(node);
          copy.kids = std::move(c);
          result.push_back(out_.add(std::move(copy)));
        }
        return result;
      }
      default:
        break;
    }
    int signs = count_signs(src_, n);
    if (signs > kMaxSigns) return {};
    std::vector<int> result;
    for (int mask = 0; mask < (1 << signs); ++mask) {
      int bit = 0;
      result.push_back(copy_with_signs(n, mask, &bit));
    }
    return result;
  }

  MathExpr take(int root) {
    out_.root = root;
    return std::move(out_);
  }
  int add_list(std::vector<int> kids) {
    Node n;
    n.kind = NodeKind::kList;
    n.kids = std::move(kids);
    return out_.add(std::move(n));
  }

 private:
  static Node shell(const Node& n) {
    Node c = n;
    c.kids.clear();
    return c;
  }

  int copy_with_signs(int n, int mask, int* bit) {
    const Node& node = src_.at(n);
    if (node.kind == NodeKind::kPlusMinus) {
      bool negative = (mask >> (*bit)++) & 1;
      int kid = copy_with_signs(node.kids[0], mask, bit);
      if (!negative) return kid;
      Node neg;
      neg.kind = NodeKind::kNeg;
      neg.kids = {kid};
      return out_.add(std::move(neg));
    }
    Node copy = shell(node);
    for (int k : node.kids) copy.kids.push_back(copy_with_signs(k, mask, bit));
    return out_.add(std::move(copy));
  }

  const MathExpr& src_;
  MathExpr out_;
};

}  // namespace

std::optional<MathExpr> expand_plus_minus(const MathExpr& e) {
  bool any = false;
  for (const Node& n : e.nodes) any = any || n.kind == NodeKind::kPlusMinus;
  if (!any) return e;
  Expander x(e);
  std::vector<int> v = x.expand(e.root);
  if (v.empty()) return std::nullopt;
  if (v.size() == 1) return x.take(v[0]);
  int list = x.add_list(v);
  return x.take(list);
}

}  // namespace forge::reward::math
