// What /v1/shape supports of Electric's shape definition, beyond the table:
// `columns` (a subset of the event-log table's six columns, "seqNum"
// included) and a `where` made of comparisons of "seqNum" with integer
// literals joined by AND. Both are parsed strictly; anything else is refused
// with a message for Electric's 400 body. The log itself is read unfiltered
// (offsets stay log positions); a page is filtered before it is sent.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace gw {

// The event-log table's columns, in table order (bit i of a column mask).
inline constexpr const char* kShapeColumns[] = {"seqNum", "parentSeqNum", "name", "args", "clientId", "sessionId"};
inline constexpr unsigned kAllShapeColumns = 0x3f;

struct ShapeFilter {
  unsigned columns = kAllShapeColumns;
  int64_t above = std::numeric_limits<int64_t>::min();  // keep seqNum > above
  int64_t at_most = std::numeric_limits<int64_t>::max(); // keep seqNum <= at_most
  std::vector<int64_t> excluded;                         // keep seqNum not in these (<>)

  bool Keeps(int64_t seq) const;
  bool Narrows() const;  // anything but every column of every event
  // Events with seqNum <= this can be skipped from the log (for the page query).
  int32_t SkipThrough() const;
};

// Electric's `columns`: a comma list; "quoted" names keep their case, bare
// names fold to lower case. Returns false with Electric's message in *error.
bool ParseShapeColumns(const std::string& in, unsigned* mask, std::string* error);

// `"seqNum" <op> <int>` or `<int> <op> "seqNum"` (op: = <> != < <= > >=),
// joined by AND (any case), optionally in parentheses. Narrows *f.
bool ParseShapeWhere(const std::string& in, ShapeFilter* f, std::string* error);

// electric-schema for the selected columns.
std::string ShapeSchemaHeader(unsigned columns);

// Comma-joined insert messages (a shape_page body) with the events the filter
// rejects dropped and the unselected columns removed from each value.
std::string FilterShapeItems(const ShapeFilter& f, const std::string& items);

}  // namespace gw
