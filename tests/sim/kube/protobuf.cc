#include "sim/kube/protobuf.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <vector>

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

// What a field holds, and so how it is read and written into the JSON form.
enum class Kind { kString, kInt64, kBool, kStringMap, kBytesMap, kMessage };

struct Message;

struct Field {
  uint32_t number;
  const char* json_name;
  Kind kind;
  bool repeated = false;
  const Message* message = nullptr;  // kMessage's type
};

// A message is its table of fields, from k8s.io/api's generated.proto. Fields
// not listed (timestamps, managedFields, status: the server's) are skipped.
struct Message {
  std::vector<Field> fields;
};

Field text(uint32_t n, const char* name) {
  return {n, name, Kind::kString};
}
Field texts(uint32_t n, const char* name) {
  return {n, name, Kind::kString, true};
}
Field int64(uint32_t n, const char* name) {
  return {n, name, Kind::kInt64};
}
Field flag(uint32_t n, const char* name) {
  return {n, name, Kind::kBool};
}
Field text_map(uint32_t n, const char* name) {
  return {n, name, Kind::kStringMap};
}
Field bytes_map(uint32_t n, const char* name) {
  return {n, name, Kind::kBytesMap};
}
Field message(uint32_t n, const char* name, const Message& m) {
  return {n, name, Kind::kMessage, false, &m};
}
Field messages(uint32_t n, const char* name, const Message& m) {
  return {n, name, Kind::kMessage, true, &m};
}

nlohmann::json decode(std::string_view data, const Message& message);

void decode_field(Reader& r, uint32_t wire, const Field& f, nlohmann::json& o) {
  nlohmann::json value;
  switch (f.kind) {
    case Kind::kString:
      value = str(r, wire);
      break;
    case Kind::kInt64:
      value = i64(r, wire);
      break;
    case Kind::kBool:
      value = boolean(r, wire);
      break;
    case Kind::kStringMap:
    case Kind::kBytesMap:
      map_entry(r, wire, o[f.json_name], f.kind == Kind::kBytesMap);
      return;
    case Kind::kMessage:
      expect(wire, 2);
      value = decode(r.bytes(), *f.message);
      break;
  }
  if (f.repeated) {
    o[f.json_name].push_back(std::move(value));
  } else if (value == "") {
    // Go writes every string field, set or not; the JSON form leaves an
    // empty one out, and so does kube-sim.
    o.erase(f.json_name);
  } else {
    o[f.json_name] = std::move(value);  // a singular field seen twice: the last wins
  }
}

nlohmann::json decode(std::string_view data, const Message& message) {
  nlohmann::json o = nlohmann::json::object();
  each_field(data, [&](Reader& r, uint32_t number, uint32_t wire) {
    auto f = std::find_if(message.fields.begin(), message.fields.end(),
                          [&](const Field& field) { return field.number == number; });
    if (f == message.fields.end()) {
      r.skip(wire);
    } else {
      decode_field(r, wire, *f, o);
    }
  });
  return o;
}

const Message kOwnerReference{{text(1, "kind"), text(3, "name"), text(4, "uid"),
                               text(5, "apiVersion"), flag(6, "controller"),
                               flag(7, "blockOwnerDeletion")}};
const Message kObjectMeta{{text(1, "name"), text(2, "generateName"), text(3, "namespace"),
                           text(5, "uid"), text(6, "resourceVersion"), int64(7, "generation"),
                           text_map(11, "labels"), text_map(12, "annotations"),
                           messages(13, "ownerReferences", kOwnerReference),
                           texts(14, "finalizers")}};
const Message kSecret{{message(1, "metadata", kObjectMeta), bytes_map(2, "data"), text(3, "type"),
                       text_map(4, "stringData"), flag(5, "immutable")}};
const Message kConfigMap{{message(1, "metadata", kObjectMeta), text_map(2, "data"),
                          bytes_map(3, "binaryData"), flag(4, "immutable")}};
const Message kObjectReference{{text(1, "kind"), text(2, "namespace"), text(3, "name"),
                                text(4, "uid"), text(5, "apiVersion"), text(6, "resourceVersion"),
                                text(7, "fieldPath")}};
const Message kLocalObjectReference{{text(1, "name")}};
const Message kServiceAccount{{message(1, "metadata", kObjectMeta),
                               messages(2, "secrets", kObjectReference),
                               messages(3, "imagePullSecrets", kLocalObjectReference),
                               flag(4, "automountServiceAccountToken")}};
const Message kNamespaceSpec{{texts(1, "finalizers")}};
const Message kNamespace{{message(1, "metadata", kObjectMeta), message(2, "spec", kNamespaceSpec)}};
const Message kBoundObjectReference{
    {text(1, "kind"), text(2, "apiVersion"), text(3, "name"), text(4, "uid")}};
const Message kTokenRequestSpec{{texts(1, "audiences"),
                                 message(3, "boundObjectRef", kBoundObjectReference),
                                 int64(4, "expirationSeconds")}};
const Message kTokenRequest{
    {message(1, "metadata", kObjectMeta), message(2, "spec", kTokenRequestSpec)}};
const Message kMetadataOnly{{message(1, "metadata", kObjectMeta)}};
const Message kPreconditions{{text(1, "uid"), text(2, "resourceVersion")}};
const Message kDeleteOptions{
    {int64(1, "gracePeriodSeconds"), message(2, "preconditions", kPreconditions),
     flag(3, "orphanDependents"), text(4, "propagationPolicy"), texts(5, "dryRun")}};

// The envelope: runtime.Unknown, whose raw bytes are the object's message.
const Message kTypeMeta{{text(1, "apiVersion"), text(2, "kind")}};
const Message kUnknown{
    {message(1, "typeMeta", kTypeMeta), text(2, "raw"), text(3, "contentEncoding")}};

struct Decodable {
  std::string_view api_version;  // empty: any group, as DeleteOptions is sent to each
  std::string_view kind;
  const Message& message;
};

const Decodable kDecodable[] = {
    {"v1", "Secret", kSecret},
    {"v1", "ConfigMap", kConfigMap},
    {"v1", "ServiceAccount", kServiceAccount},
    {"v1", "Namespace", kNamespace},
    {"authentication.k8s.io/v1", "TokenRequest", kTokenRequest},
    {"authentication.k8s.io/v1", "SelfSubjectReview", kMetadataOnly},
    {"", "DeleteOptions", kDeleteOptions},
};

}  // namespace

std::optional<ProtobufObject> decode_protobuf_object(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, 4) != kMagic) throw std::runtime_error("protobuf: missing k8s envelope");
  const nlohmann::json unknown = decode(body.substr(4), kUnknown);
  if (unknown.contains("contentEncoding")) {
    throw std::runtime_error("protobuf: content encoding not supported");
  }
  const nlohmann::json type_meta = unknown.value("typeMeta", nlohmann::json::object());
  ProtobufObject out{type_meta.value("apiVersion", ""), type_meta.value("kind", ""), {}};
  auto d = std::find_if(std::begin(kDecodable), std::end(kDecodable), [&](const Decodable& d) {
    return (d.api_version.empty() || d.api_version == out.api_version) && d.kind == out.kind;
  });
  if (d == std::end(kDecodable)) return std::nullopt;
  out.object = decode(unknown.value("raw", ""), d->message);
  out.object["apiVersion"] = out.api_version;
  out.object["kind"] = out.kind;
  return out;
}

}  // namespace fluxkey::sim::kube
