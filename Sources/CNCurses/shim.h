#ifndef LEM_CNCURSES_SHIM_H
#define LEM_CNCURSES_SHIM_H
// Wide-character ncurses: the *_wch functions and cchar_t need these before <ncurses.h>.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <ncursesw/ncurses.h>
#endif
