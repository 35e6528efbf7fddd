// SPDX-License-Identifier: MIT
// libFuzzer target for StrictJson (core/strictjson_p.h). Needs the sdk module: core.
// Invariants: no crash/UB/leak; whatever the strict scan accepts, QJsonDocument parses too and
// the members reported by scanObject() are exactly the object's keys, once each.
#include "core/strictjson_p.h"

#include <QtCore/QJsonDocument>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

using Keyloop::StrictJson;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView json(reinterpret_cast<const char *>(data), qsizetype(size));
    StrictJson::Limits limits;
    limits.maxSize = 64 * 1024;
    limits.maxDepth = 32;

    const Keyloop::Error checked = StrictJson::check(json, limits);
    const auto value = StrictJson::parse(json, limits);
    if (checked.isNull() != value.has_value())
        std::abort(); // check() and parse() must agree

    std::set<std::string> names;
    bool duplicateReported = false;
    struct Ctx { std::set<std::string> *names; bool *dup; } ctx{&names, &duplicateReported};
    const Keyloop::Error scanned = StrictJson::scanObject(json, limits, [](void *c, const StrictJson::Member &m) {
        auto *x = static_cast<Ctx *>(c);
        // Each reported value is itself valid JSON.
        StrictJson::Limits inner;
        if (!StrictJson::parse(m.value, inner))
            std::abort();
        if (m.type == StrictJson::ValueType::String)
            (void)StrictJson::decodeString(m.value);
        if (m.type == StrictJson::ValueType::Number)
            (void)StrictJson::decodeNumber(m.value);
        if (!x->names->insert(std::string(m.name)).second)
            *x->dup = true;
    }, &ctx);

    const auto object = StrictJson::parseObject(json, limits);
    if (scanned.isNull() != object.has_value())
        std::abort();
    if (object) {
        if (duplicateReported || qsizetype(names.size()) != object->size())
            std::abort(); // an accepted object has no duplicate names
        for (auto it = object->begin(); it != object->end(); ++it) {
            if (!names.count(it.key().toStdString()))
                std::abort();
        }
    }
    return 0;
}
