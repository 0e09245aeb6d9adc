#ifndef LH_VERSION_H
#define LH_VERSION_H
#define LH_VERSION "0.1.0"
#endif
