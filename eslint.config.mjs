// @ts-check
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "**/*.mjs", "**/vitest.config.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "require-yield": "off",
      "no-restricted-syntax": [
        "error",
        { selector: "ThrowStatement", message: "Errors belong in the Effect error channel as tagged errors." },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "Time comes from Effect's Clock." },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: "Time comes from Effect's Clock." }
      ]
    }
  },
  {
    files: ["**/test/**/*.ts", "**/bench/**/*.ts", "**/examples/**/*.ts"],
    rules: { "no-restricted-syntax": "off" }
  }
)
