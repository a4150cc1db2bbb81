/*
    SPLAMFLOW_EXTRACT and SPLAMFLOW_CLEAN run for real on the chr20 slice with a genome and
    --infer-strand none in both spellings argparse accepts (ext.args of
    tests/nextflow/infer_strand_none.config): the CLI refuses --genome with none, so the tasks
    succeed only if the modules leave --genome out. Run by tests/nextflow/test_validation.py.
*/

include { SPLAMFLOW_EXTRACT as EXTRACT_SPACE } from '../../modules/splamflow/splamflow/extract/main'
include { SPLAMFLOW_EXTRACT as EXTRACT_EQUALS } from '../../modules/splamflow/splamflow/extract/main'
include { SPLAMFLOW_CLEAN as CLEAN_SPACE     } from '../../modules/splamflow/splamflow/clean/main'
include { SPLAMFLOW_CLEAN as CLEAN_EQUALS    } from '../../modules/splamflow/splamflow/clean/main'

workflow {

    main:
    def data = "${params.root}/tests/data"
    def bam = [[id: 's1', type: 'alignments'], file("${data}/chr20_slice.bam", checkIfExists: true), file("${data}/chr20_slice.bam.bai", checkIfExists: true)]
    def fasta = [[id: 'chr20_slice'], file("${data}/chr20_slice.fa.gz", checkIfExists: true), [file("${data}/chr20_slice.fa.gz.fai"), file("${data}/chr20_slice.fa.gz.gzi")]]
    // a scores file without rows is valid: every record is kept
    def scores = file(params.empty_scores, checkIfExists: true)

    EXTRACT_SPACE(channel.of(bam), fasta)
    EXTRACT_EQUALS(channel.of(bam), fasta)
    CLEAN_SPACE(channel.of(bam + [scores]), fasta)
    CLEAN_EQUALS(channel.of(bam + [scores]), fasta)
}
