#pragma once

#include <QtGlobal>

// The published limits of Twilio Sync Streams (twilio.com/docs/sync/limits and the OpenAPI
// file). Every component checks against these constants and nothing else.
namespace streams::limits {

// A stream message's Data, measured as compact UTF-8 JSON ("4KB as serialized JSON").
inline constexpr qsizetype kMaxMessageBytes = 4096;

// Ttl in seconds: 0 (or absent) means "never expires"; the upper bound is one year (error 54011).
inline constexpr qint64 kMaxTtlSeconds = 31'536'000;

// The spec and current docs say 320; the older 54302 page says 256. We accept the larger.
inline constexpr qsizetype kMaxUniqueNameLength = 320;

// List pages: any PageSize from 1 is accepted, and a page holds at most kMaxPageSize items
// (Twilio's page on listing streams says the maximum is 1000; the OpenAPI file's 100 is not
// what the service does). Both official clients send their `limit` as PageSize, uncapped, so a
// larger size is served as a full page of kMaxPageSize, never refused.
inline constexpr int kMinPageSize = 1;
inline constexpr int kMaxPageSize = 1000;
inline constexpr int kDefaultPageSize = 50;

// Per-stream publish limit: a token bucket refilled at this rate holding this many seconds of it.
inline constexpr double kDefaultPublishRatePerSecond = 30.0;
inline constexpr int kPublishBurstSeconds = 10;

// Requests larger than this are refused with 413 before any parsing.
inline constexpr qsizetype kMaxRequestBodyBytes = 1024 * 1024;

// A service's reachability debouncing window, in milliseconds.
inline constexpr int kMinDebouncingWindowMs = 1000;
inline constexpr int kMaxDebouncingWindowMs = 30000;
inline constexpr int kDefaultDebouncingWindowMs = 5000;

} // namespace streams::limits
