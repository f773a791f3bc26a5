/* version.h - the version of hubpredict (set by CMake's project()). */
#ifndef HUBPREDICT_VERSION_H
#define HUBPREDICT_VERSION_H
#ifndef HP_VERSION
#define HP_VERSION "0.0.0-dev"
#endif
#endif
