#pragma once
// GET / on the admin API: one self-contained HTML page (inline CSS, JS and SVG; nothing fetched
// from elsewhere, since nodes often run where no CDN is reachable). It polls /status every two
// seconds and draws this node on the ring with its leaf set, neighbourhood set and routing table
// fill, and links each neighbour to its own page when /status knows its admin address.
#include <string_view>

namespace forestcast::node {

std::string_view status_page_html();

}  // namespace forestcast::node
