#include "sim/kube/protobuf.h"

#include <cstdint>
#include <functional>
#include <stdexcept>

#include "core/base64.h"

namespace fluxkey::sim::kube {
namespace {

// A cursor over one message's bytes (proto wire format).
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ >= data_.size(); }

  // Reads the next tag; false at the end.
  bool next(uint32_t* field, uint32_t* wire) {
    if (done()) return false;
    uint64_t tag = varint();
    *field = static_cast<uint32_t>(tag >> 3);
    *wire = static_cast<uint32_t>(tag & 7);
    if (*field == 0) throw std::runtime_error("protobuf: field number 0");
    return true;
  }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (done()) throw std::runtime_error("protobuf: truncated varint");
      auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("protobuf: varint too long");
  }

  std::string_view bytes() {
    uint64_t len = varint();
    if (len > data_.size() - pos_) throw std::runtime_error("protobuf: truncated field");
    std::string_view out = data_.substr(pos_, len);
    pos_ += len;
    return out;
  }

  void skip(uint32_t wire) {
    switch (wire) {
      case 0:
        varint();
        return;
      case 1:
        advance(8);
        return;
      case 2:
        bytes();
        return;
      case 5:
        advance(4);
        return;
      default:
        throw std::runtime_error("protobuf: unsupported wire type " + std::to_string(wire));
    }
  }

 private:
  void advance(size_t n) {
    if (n > data_.size() - pos_) throw std::runtime_error("protobuf: truncated field");
    pos_ += n;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

void expect(uint32_t wire, uint32_t want) {
  if (wire != want) throw std::runtime_error("protobuf: unexpected wire type");
}

std::string str(Reader& r, uint32_t wire) {
  expect(wire, 2);
  return std::string(r.bytes());
}
int64_t i64(Reader& r, uint32_t wire) {
  expect(wire, 0);
  return static_cast<int64_t>(r.varint());
}
bool boolean(Reader& r, uint32_t wire) {
  expect(wire, 0);
  return r.varint() != 0;
}

using FieldFn = std::function<void(Reader&, uint32_t field, uint32_t wire)>;

void each_field(std::string_view data, const FieldFn& fn) {
  Reader r(data);
  uint32_t field = 0, wire = 0;
  while (r.next(&field, &wire)) fn(r, field, wire);
}

// A map<string, X> entry: key = 1, value = 2. Bytes values become base64.
void map_entry(Reader& r, uint32_t wire, nlohmann::json& into, bool bytes_value) {
  expect(wire, 2);
  std::string key, value;
  each_field(r.bytes(), [&](Reader& e, uint32_t f, uint32_t w) {
    if (f == 1) {
      key = str(e, w);
    } else if (f == 2) {
      value = str(e, w);
    } else {
      e.skip(w);
    }
  });
  if (!into.is_object()) into = nlohmann::json::object();
  into[key] = bytes_value ? base64_encode(value) : value;
}

nlohmann::json owner_reference(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["kind"] = str(r, w);
        break;
      case 3:
        o["name"] = str(r, w);
        break;
      case 4:
        o["uid"] = str(r, w);
        break;
      case 5:
        o["apiVersion"] = str(r, w);
        break;
      case 6:
        o["controller"] = boolean(r, w);
        break;
      case 7:
        o["blockOwnerDeletion"] = boolean(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json object_meta(std::string_view data) {
  nlohmann::json m = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        m["name"] = str(r, w);
        break;
      case 2:
        m["generateName"] = str(r, w);
        break;
      case 3:
        m["namespace"] = str(r, w);
        break;
      case 5:
        m["uid"] = str(r, w);
        break;
      case 6:
        m["resourceVersion"] = str(r, w);
        break;
      case 7:
        m["generation"] = i64(r, w);
        break;
      case 11:
        map_entry(r, w, m["labels"], false);
        break;
      case 12:
        map_entry(r, w, m["annotations"], false);
        break;
      case 13:
        expect(w, 2);
        m["ownerReferences"].push_back(owner_reference(r.bytes()));
        break;
      case 14:
        m["finalizers"].push_back(str(r, w));
        break;
      default:
        r.skip(w);  // timestamps, managedFields: server-owned
    }
  });
  // Empty strings are proto's "unset" as Go writes them.
  for (const char* k : {"name", "generateName", "namespace", "uid", "resourceVersion"}) {
    if (m.contains(k) && m[k] == "") m.erase(k);
  }
  return m;
}

nlohmann::json message_field(Reader& r, uint32_t w, nlohmann::json (*fn)(std::string_view)) {
  expect(w, 2);
  return fn(r.bytes());
}

nlohmann::json secret(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["metadata"] = message_field(r, w, object_meta);
        break;
      case 2:
        map_entry(r, w, o["data"], true);
        break;
      case 3:
        o["type"] = str(r, w);
        break;
      case 4:
        map_entry(r, w, o["stringData"], false);
        break;
      case 5:
        o["immutable"] = boolean(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  if (o.contains("type") && o["type"] == "") o.erase("type");
  return o;
}

nlohmann::json config_map(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["metadata"] = message_field(r, w, object_meta);
        break;
      case 2:
        map_entry(r, w, o["data"], false);
        break;
      case 3:
        map_entry(r, w, o["binaryData"], true);
        break;
      case 4:
        o["immutable"] = boolean(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json object_reference(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["kind"] = str(r, w);
        break;
      case 2:
        o["namespace"] = str(r, w);
        break;
      case 3:
        o["name"] = str(r, w);
        break;
      case 4:
        o["uid"] = str(r, w);
        break;
      case 5:
        o["apiVersion"] = str(r, w);
        break;
      case 6:
        o["resourceVersion"] = str(r, w);
        break;
      case 7:
        o["fieldPath"] = str(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json local_object_reference(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    if (f == 1) {
      o["name"] = str(r, w);
    } else {
      r.skip(w);
    }
  });
  return o;
}

nlohmann::json service_account(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["metadata"] = message_field(r, w, object_meta);
        break;
      case 2:
        o["secrets"].push_back(message_field(r, w, object_reference));
        break;
      case 3:
        o["imagePullSecrets"].push_back(message_field(r, w, local_object_reference));
        break;
      case 4:
        o["automountServiceAccountToken"] = boolean(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json namespace_spec(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    if (f == 1) {
      o["finalizers"].push_back(str(r, w));
    } else {
      r.skip(w);
    }
  });
  return o;
}

nlohmann::json namespace_object(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["metadata"] = message_field(r, w, object_meta);
        break;
      case 2:
        o["spec"] = message_field(r, w, namespace_spec);
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json bound_object_reference(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["kind"] = str(r, w);
        break;
      case 2:
        o["apiVersion"] = str(r, w);
        break;
      case 3:
        o["name"] = str(r, w);
        break;
      case 4:
        o["uid"] = str(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json token_request_spec(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  o["audiences"] = nlohmann::json::array();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["audiences"].push_back(str(r, w));
        break;
      case 3:
        o["boundObjectRef"] = message_field(r, w, bound_object_reference);
        break;
      case 4:
        o["expirationSeconds"] = i64(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json token_request(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["metadata"] = message_field(r, w, object_meta);
        break;
      case 2:
        o["spec"] = message_field(r, w, token_request_spec);
        break;
      default:
        r.skip(w);  // status is the server's
    }
  });
  return o;
}

nlohmann::json preconditions(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["uid"] = str(r, w);
        break;
      case 2:
        o["resourceVersion"] = str(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json delete_options(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        o["gracePeriodSeconds"] = i64(r, w);
        break;
      case 2:
        o["preconditions"] = message_field(r, w, preconditions);
        break;
      case 3:
        o["orphanDependents"] = boolean(r, w);
        break;
      case 4:
        o["propagationPolicy"] = str(r, w);
        break;
      case 5:
        o["dryRun"].push_back(str(r, w));
        break;
      default:
        r.skip(w);
    }
  });
  return o;
}

nlohmann::json metadata_only(std::string_view data) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t f, uint32_t w) {
    if (f == 1) {
      o["metadata"] = message_field(r, w, object_meta);
    } else {
      r.skip(w);
    }
  });
  return o;
}

}  // namespace

std::optional<ProtobufObject> decode_protobuf_object(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, 4) != kMagic) throw std::runtime_error("protobuf: missing k8s envelope");
  ProtobufObject out;
  std::string raw;
  std::string encoding;
  each_field(body.substr(4), [&](Reader& r, uint32_t f, uint32_t w) {
    switch (f) {
      case 1:
        expect(w, 2);
        each_field(r.bytes(), [&](Reader& t, uint32_t tf, uint32_t tw) {
          if (tf == 1) {
            out.api_version = str(t, tw);
          } else if (tf == 2) {
            out.kind = str(t, tw);
          } else {
            t.skip(tw);
          }
        });
        break;
      case 2:
        raw = str(r, w);
        break;
      case 3:
        encoding = str(r, w);
        break;
      default:
        r.skip(w);
    }
  });
  if (!encoding.empty()) throw std::runtime_error("protobuf: content encoding not supported");
  using Decoder = nlohmann::json (*)(std::string_view);
  Decoder decoder = nullptr;
  const std::string& k = out.kind;
  if (out.api_version == "v1" && k == "Secret") decoder = secret;
  if (out.api_version == "v1" && k == "ConfigMap") decoder = config_map;
  if (out.api_version == "v1" && k == "ServiceAccount") decoder = service_account;
  if (out.api_version == "v1" && k == "Namespace") decoder = namespace_object;
  if (out.api_version == "authentication.k8s.io/v1" && k == "TokenRequest") decoder = token_request;
  if (out.api_version == "authentication.k8s.io/v1" && k == "SelfSubjectReview") {
    decoder = metadata_only;
  }
  if (k == "DeleteOptions") decoder = delete_options;
  if (!decoder) return std::nullopt;
  out.object = decoder(raw);
  out.object["apiVersion"] = out.api_version;
  out.object["kind"] = out.kind;
  return out;
}

}  // namespace fluxkey::sim::kube
