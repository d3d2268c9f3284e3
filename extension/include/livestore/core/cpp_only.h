// Included last by every core-zone header: the core zone is pure C++ and must
// never see a Postgres header (its macros and longjmp error model do not mix).
#pragma once
#ifdef POSTGRES_H
#error "core-zone code must not include Postgres headers"
#endif
