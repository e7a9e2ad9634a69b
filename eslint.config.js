// Lint: typescript-eslint's recommended rules over all TypeScript sources.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', 'cdk.out/', 'dist/', '**/*.d.ts', '.state/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  // The CLI, scripts, benchmarks and test helpers own the terminal; the library never prints.
  { files: ['bin/**', 'scripts/**', 'bench/**', 'local/**', 'test/**'], rules: { 'no-console': 'off' } },
);
