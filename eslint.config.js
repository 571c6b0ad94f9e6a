// Lint (typescript-eslint's recommended rules) runs in `npm test`, after the type check; formatting is Prettier's
// (.prettierrc.json), checked there too.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.speedcam/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Sanitisers of ids, object names and payloads match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  // The bin shim is plain Node.js.
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly', URL: 'readonly' } } },
  // Tests read untyped JSON (HCL parsed to JSON, randomuser.me responses) without declaring every shape.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
