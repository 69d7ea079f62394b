/**
 * Colours by role. Ink's chalk ignores NO_COLOR, so the theme does it: without colour every role
 * is undefined and only bold, dim, inverse and strikethrough remain.
 */
import { createContext, useContext } from "react";

export interface Theme {
  accent?: string;
  user?: string;
  success?: string;
  error?: string;
  warning?: string;
  heading?: string;
  link?: string;
  code?: string;
  diffAdd?: string;
  diffRemove?: string;
  diffHunk?: string;
  /** Colours for highlight.js scopes ("keyword", "string", "title.function"…), by their first part. */
  syntax: Record<string, string | undefined>;
}

const COLORS: Theme = {
  accent: "cyan",
  user: "magenta",
  success: "green",
  error: "red",
  warning: "yellow",
  heading: "cyan",
  link: "blue",
  code: "yellow",
  diffAdd: "green",
  diffRemove: "red",
  diffHunk: "cyan",
  syntax: {
    keyword: "magenta",
    built_in: "cyan",
    type: "cyan",
    literal: "blue",
    number: "yellow",
    string: "green",
    regexp: "red",
    symbol: "yellow",
    comment: "gray",
    doctag: "gray",
    meta: "gray",
    title: "blue",
    function: "blue",
    params: undefined,
    attr: "yellow",
    attribute: "yellow",
    variable: "red",
    property: "cyan",
    tag: "red",
    name: "red",
    "selector-tag": "magenta",
    "selector-class": "yellow",
    "selector-id": "yellow",
    addition: "green",
    deletion: "red",
    section: "blue",
    bullet: "yellow",
    quote: "gray",
    subst: undefined,
  },
};

const PLAIN: Theme = { syntax: {} };

export function themeFor(env: NodeJS.ProcessEnv): Theme {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== "" ? PLAIN : COLORS;
}

const ThemeContext = createContext<Theme>(COLORS);

export const ThemeProvider = ThemeContext.Provider;

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
