/*
    A pipeline of someone else's that uses splamflow's modules after
    `nf-core modules --git-remote <splamflow> install splamflow/extract` (and score, clean):
    tests/nextflow/test_nfcore_modules.py copies this file into a scratch pipeline made by
    `nf-core pipelines create` and runs it there with the real Nextflow.
*/

include { SPLAMFLOW_EXTRACT } from './modules/splamflow/splamflow/extract/main'
include { SPLAMFLOW_SCORE   } from './modules/splamflow/splamflow/score/main'
include { SPLAMFLOW_CLEAN   } from './modules/splamflow/splamflow/clean/main'

workflow {

    main:
    ch_bam   = channel.of([[id: 'sample1'], file(params.bam, checkIfExists: true), file("${params.bam}.bai", checkIfExists: true)])
    ch_fasta = channel.value([[id: 'genome'], file(params.fasta, checkIfExists: true), [file("${params.fasta}.fai"), file("${params.fasta}.gzi")]])

    SPLAMFLOW_EXTRACT(ch_bam, ch_fasta)
    SPLAMFLOW_SCORE(SPLAMFLOW_EXTRACT.out.bed, ch_fasta, [])
    SPLAMFLOW_CLEAN(ch_bam.join(SPLAMFLOW_SCORE.out.bed), ch_fasta)

    // the modules report their versions on the `versions` topic
    channel.topic('versions')
        .map { process, tool, version -> "${process.tokenize(':').last()}\t${tool}\t${version}".toString() }
        .collectFile(name: 'versions.tsv', storeDir: params.outdir, sort: true, newLine: true)
}
